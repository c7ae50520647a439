#!/usr/bin/env bash
# Builds one libFuzzer binary per reader and runs each for SECONDS (default 600) on the
# committed seed corpus. Crashes land in Fuzz/artifacts/. Usage:
#   Fuzz/run.sh [SECONDS] [TARGET...]     targets: png idx cifar npy safetensors architecture onnx
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-600}; shift || true
TARGETS=("$@"); [ ${#TARGETS[@]} -gt 0 ] || TARGETS=(png idx cifar npy safetensors architecture onnx)
BUILD=.build-fuzz; mkdir -p "$BUILD" Fuzz/artifacts
SOURCES=$(find Sources/ConvVizCore -name '*.swift' | sort)
INCLUDES=(-I Sources/CBLAS -I Sources/CPNG -I Sources/CZlib $(pkg-config --cflags-only-I openblas libpng zlib | sed 's/-I/-Xcc -I/g'))
# The SwiftProtobuf runtime (ONNX reading), at the version Package.resolved pins, as a
# static library beside the fuzz binaries (not instrumented: the fuzzer steers by
# ConvViz's own code).
PROTOBUF="$BUILD/SwiftProtobuf"
if [ ! -f "$PROTOBUF/libSwiftProtobuf.a" ]; then
  echo "building SwiftProtobuf" >&2
  swift package --scratch-path "$BUILD/spm" resolve >&2
  mkdir -p "$PROTOBUF"
  swiftc -parse-as-library -O -swift-version 6 -enable-upcoming-feature ExistentialAny -module-name SwiftProtobuf -package-name swift_protobuf \
    -emit-module -emit-module-path "$PROTOBUF/SwiftProtobuf.swiftmodule" -emit-library -static -o "$PROTOBUF/libSwiftProtobuf.a" \
    $(find "$BUILD/spm/checkouts/swift-protobuf/Sources/SwiftProtobuf" -name '*.swift' | sort)
fi
INCLUDES+=(-I "$PROTOBUF")
for t in "${TARGETS[@]}"; do
  upper=$(echo "$t" | tr a-z A-Z)
  if [ ! -x "$BUILD/fuzz-$t" ] || [ -n "$(find Sources/ConvVizCore Fuzz -name '*.swift' -newer "$BUILD/fuzz-$t")" ]; then
    echo "building fuzz-$t" >&2
    swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name ConvVizCore -D "FUZZ_$upper" \
      "${INCLUDES[@]}" $SOURCES Fuzz/FuzzTargets.swift Fuzz/BundleModule.swift \
      -L "$PROTOBUF" -lSwiftProtobuf $(pkg-config --libs openblas libpng zlib) -o "$BUILD/fuzz-$t"
  fi
  mkdir -p "$BUILD/corpus-$t"
  echo "fuzzing $t for ${SECONDS_PER_TARGET}s" >&2
  OPENBLAS_NUM_THREADS=1 "$BUILD/fuzz-$t" "$BUILD/corpus-$t" "Fuzz/corpus/$t" -max_total_time="$SECONDS_PER_TARGET" \
    -rss_limit_mb=2048 -timeout=10 -artifact_prefix="Fuzz/artifacts/$t-" -print_final_stats=1 2>&1 | tail -25 > "$BUILD/fuzz-$t.log" || true
  # Coverage of the corpus the run ended with (libFuzzer's edge counter).
  OPENBLAS_NUM_THREADS=1 "$BUILD/fuzz-$t" "$BUILD/corpus-$t" "Fuzz/corpus/$t" -runs=0 2>&1 | grep -E "INITED|DONE" | tail -1 >> "$BUILD/fuzz-$t.log" || true
  echo "$t: $(grep -E 'stat::number_of_executed_units' "$BUILD/fuzz-$t.log" | awk '{print $2}') executions; $(grep -E 'INITED|DONE' "$BUILD/fuzz-$t.log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+'); crashes: $(ls Fuzz/artifacts | grep -c "^$t-" || true)"
done
