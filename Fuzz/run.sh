#!/usr/bin/env bash
# Builds one libFuzzer binary (ConvVizCore and ConvVizRender) and runs each target for
# SECONDS (default 600) on the committed seed corpus, one process at a time. Crashes land
# in Fuzz/artifacts/ (leak reports are off: fontconfig keeps its caches for the process's
# life). Usage:
#   Fuzz/run.sh [SECONDS] [TARGET...]
# targets: png idx cifar npy safetensors architecture onnx checkpoint metrics npyfigure
#          shapes duplicates counters (generators: Fuzz/FuzzGenerators.swift)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-600}; shift || true
TARGETS=("$@"); [ ${#TARGETS[@]} -gt 0 ] || TARGETS=(png idx cifar npy safetensors architecture onnx checkpoint metrics npyfigure shapes duplicates counters)
BUILD=.build-fuzz; mkdir -p "$BUILD" Fuzz/artifacts
# A copy of the sources is compiled, so edits made meanwhile cannot break the build.
# (Files that import ConvVizRender as a module of its own are left out: nothing fuzzed needs them.)
SRC="$BUILD/src"; rm -rf "$SRC"; mkdir -p "$SRC"; cp -r Sources Fuzz "$SRC/"
SOURCES=$(find "$SRC/Sources/ConvVizCore" "$SRC/Sources/ConvVizRender" -name '*.swift' | sort | grep -v -x -F "$(grep -rl '^import ConvVizRender' "$SRC/Sources/ConvVizRender")")
INCLUDES=(-I Sources/CBLAS -I Sources/CPNG -I Sources/CZlib -I Sources/CCairo -I Sources/CPango -I Sources/CFFTW -I Sources/CGif
          $(pkg-config --cflags-only-I openblas libpng zlib cairo pangocairo fftw3f | sed 's/-I/-Xcc -I/g'))
LIBS="$(pkg-config --libs openblas libpng zlib cairo pangocairo fftw3f) -lgif"
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
# FUZZ_REUSE=1 runs the binary already built even when sources changed since.
if [ ! -x "$BUILD/fuzz" ] || { [ -z "${FUZZ_REUSE:-}" ] && [ -n "$(find Sources/ConvVizCore Sources/ConvVizRender Fuzz -name '*.swift' -newer "$BUILD/fuzz")" ]; }; then
  echo "building fuzz" >&2
  # ConvVizRender's `import ConvVizCore` only warns: both are compiled as one module.
  swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name ConvVizCore \
    "${INCLUDES[@]}" $SOURCES "$SRC/Fuzz/FuzzTargets.swift" "$SRC/Fuzz/FuzzGenerators.swift" "$SRC/Fuzz/BundleModule.swift" \
    -L "$PROTOBUF" -lSwiftProtobuf $LIBS -o "$BUILD/fuzz" 2>&1 | grep -E "error" >&2 || true
  [ -x "$BUILD/fuzz" ] || { echo "fuzz build failed" >&2; exit 1; }
fi
for t in "${TARGETS[@]}"; do
  mkdir -p "$BUILD/corpus-$t"
  echo "fuzzing $t for ${SECONDS_PER_TARGET}s" >&2
  ASAN_OPTIONS=detect_leaks=0 CONVVIZ_FUZZ_TARGET=$t OPENBLAS_NUM_THREADS=1 "$BUILD/fuzz" "$BUILD/corpus-$t" "Fuzz/corpus/$t" -max_total_time="$SECONDS_PER_TARGET" \
    -rss_limit_mb=1024 -timeout=10 -detect_leaks=0 -artifact_prefix="Fuzz/artifacts/$t-" -print_final_stats=1 2>&1 | tail -25 > "$BUILD/fuzz-$t.log" || true
  # Coverage of the corpus the run ended with (libFuzzer's edge counter).
  ASAN_OPTIONS=detect_leaks=0 CONVVIZ_FUZZ_TARGET=$t OPENBLAS_NUM_THREADS=1 "$BUILD/fuzz" "$BUILD/corpus-$t" "Fuzz/corpus/$t" -runs=0 2>&1 | grep -E "INITED|DONE" | tail -1 >> "$BUILD/fuzz-$t.log" || true
  echo "$t: $(grep -E 'stat::number_of_executed_units' "$BUILD/fuzz-$t.log" | awk '{print $2}') executions; $(grep -E 'INITED|DONE' "$BUILD/fuzz-$t.log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+'); crashes: $(ls Fuzz/artifacts | grep -c "^$t-" || true)"
done
