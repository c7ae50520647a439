#!/usr/bin/env bash
# Regenerates Sources/ConvVizCore/IO/ONNX/onnx.pb.swift from scripts/onnx/onnx.proto.
# The generated file is committed; neither the build nor CI runs this script.
#
#   scripts/generate-onnx-swift.sh [PATH/TO/protoc-gen-swift]
#
# Needs:
#   - protoc (Debian: apt-get install protobuf-compiler)
#   - protoc-gen-swift of the same swift-protobuf version that Package.swift names (the
#     generated code must match the SwiftProtobuf runtime it is compiled against). Build it
#     from the swift-protobuf package, e.g. for 1.39.0:
#         git clone --branch 1.39.0 https://github.com/apple/swift-protobuf /tmp/swift-protobuf
#         (cd /tmp/swift-protobuf && swift build -c release --product protoc-gen-swift)
#     which leaves it at /tmp/swift-protobuf/.build/release/protoc-gen-swift (the default
#     here), or pass its path as the first argument or in PROTOC_GEN_SWIFT.
#
# scripts/onnx/onnx.proto is onnx/onnx.proto (proto2) as shipped in the `onnx` Python
# package (1.23.2: `python -c "import onnx, os; print(os.path.dirname(onnx.__file__))"`).
# The types are generated `internal`, so no protobuf type is part of ConvVizCore's API.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
plugin="${1:-${PROTOC_GEN_SWIFT:-/tmp/swift-protobuf/.build/release/protoc-gen-swift}}"
[ -x "$plugin" ] || { echo "protoc-gen-swift not found at $plugin (see the comment at the top of $0)" >&2; exit 1; }
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
protoc --plugin=protoc-gen-swift="$plugin" \
       --proto_path="$root/scripts/onnx" \
       --swift_opt=Visibility=Internal \
       --swift_out="$out" \
       "$root/scripts/onnx/onnx.proto"
mkdir -p "$root/Sources/ConvVizCore/IO/ONNX"
mv "$out/onnx.pb.swift" "$root/Sources/ConvVizCore/IO/ONNX/onnx.pb.swift"
echo "wrote Sources/ConvVizCore/IO/ONNX/onnx.pb.swift"
