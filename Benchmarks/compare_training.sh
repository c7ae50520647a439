#!/usr/bin/env bash
# Trains SmallConvNet on Fashion-MNIST with the same recipe in PyTorch (CPU, 2 threads)
# and in convviz (release build), one after the other in one run, and prints training
# images/s, the ratio, test accuracy and peak RSS of both. Then loads convviz's
# checkpoint into PyTorch (load_state_dict, strict) and checks the test accuracy.
#
#   Benchmarks/compare_training.sh [EPOCHS]      (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${1:-1}
VENV=Benchmarks/.venv
if ! "$VENV/bin/python" -c "import torch, safetensors, numpy" 2>/dev/null; then
  echo "creating $VENV with torch, safetensors and numpy (one time)..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q torch safetensors numpy
fi
make -s setup
swift build -c release --product convviz >&2
RUN=$(mktemp -d)

echo "== PyTorch $("$VENV/bin/python" -c 'import torch; print(torch.__version__)'), $EPOCHS epoch(s), 2 threads" >&2
PT=$("$VENV/bin/python" Benchmarks/pytorch_smallconvnet.py train --epochs "$EPOCHS" --threads 2 --json)
echo "== convviz, $EPOCHS epoch(s)" >&2
/usr/bin/time -f "%M" -o "$RUN/rss" .build/release/convviz train --data fashion-mnist --arch small --epochs "$EPOCHS" \
  --batch 128 --lr 0.05 --schedule constant --momentum 0.9 --weight-decay 5e-4 --seed 0 --out "$RUN/run" >&2
RT=$("$VENV/bin/python" Benchmarks/pytorch_smallconvnet.py evaluate "$RUN/run/checkpoint.safetensors")

"$VENV/bin/python" - "$PT" "$RUN/run/summary.json" "$(cat "$RUN/rss")" "$RT" <<'PY'
import json, sys
pt = json.loads(sys.argv[1]); cv = json.load(open(sys.argv[2])); rss = int(sys.argv[3]) / 1024; rt = json.loads(sys.argv[4])
print(f"{'':28}{'PyTorch':>12}{'convviz':>12}")
print(f"{'training images/s':28}{pt['images_per_second']:12.0f}{cv['train_images_per_second']:12.0f}")
print(f"{'ratio convviz / PyTorch':28}{'':12}{cv['train_images_per_second'] / pt['images_per_second']:12.2f}")
print(f"{'test accuracy':28}{pt['test_accuracy']:12.4f}{cv['test_accuracy']:12.4f}")
print(f"{'peak RSS (MiB)':28}{pt['peak_rss_mib']:12.0f}{rss:12.0f}")
print(f"convviz checkpoint loaded into PyTorch: test accuracy {rt['test_accuracy']:.4f} (convviz measured {cv['test_accuracy']:.4f})")
PY
rm -rf "$RUN"
