#!/usr/bin/env bash
# The microscope's budget: SmallConvNet trained one epoch on Fashion-MNIST, every unit of
# conv1 and conv2 (96 units), the whole 10,000-image test split scanned, feature
# visualizations at the defaults. Prints the wall time (release build). The machine's
# load changes the number: say what else was running beside it.
#
#   Benchmarks/microscope_budget.sh [RUN] [SITE]
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-Outputs/fmnist}
SITE=${2:-/tmp/fmnist-microscope}
swift build -c release --product convviz >/dev/null
C=.build/release/convviz
[ -f "$RUN/checkpoint.safetensors" ] || $C train --data fashion-mnist --arch small --epochs 1 --out "$RUN"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)  cores: $(nproc)"
START=$(date +%s.%N)
$C microscope --model "$RUN" --data fashion-mnist --out "$SITE" --image Sources/ConvVizCore/Resources/samples/chelsea.png
END=$(date +%s.%N)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 -c "print(f'microscope, 96 units of SmallConvNet on Fashion-MNIST: {$END - $START:.1f} s (budget 300 s)')"
