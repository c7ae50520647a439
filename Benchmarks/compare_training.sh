#!/usr/bin/env bash
# Trains SmallConvNet on Fashion-MNIST with the same recipe in PyTorch (CPU, 2 threads)
# and in convviz (release build), alternating in ROUNDS rounds in one run, and prints
# training images/s of every round, the best of each and their ratio, test accuracy
# and peak RSS of both. Alternating, and comparing bests, keeps a shared machine's
# drifting speed from favouring whichever ran in a fast minute. Then loads convviz's
# checkpoint into PyTorch (load_state_dict, strict) and checks the test accuracy.
#
#   Benchmarks/compare_training.sh [EPOCHS] [ROUNDS]      (defaults 1 and 2)
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${1:-1}
ROUNDS=${2:-2}
source Benchmarks/ensure_venv.sh
make -s setup
swift build -c release --product convviz >&2
RUN=$(mktemp -d)

PT_ALL=(); CV_ALL=()
for ROUND in $(seq "$ROUNDS"); do
  echo "== round $ROUND/$ROUNDS: PyTorch $("$VENV/bin/python" -c 'import torch; print(torch.__version__)'), $EPOCHS epoch(s), 2 threads" >&2
  PT_ALL+=("$("$VENV/bin/python" Benchmarks/pytorch_smallconvnet.py train --epochs "$EPOCHS" --threads 2 --json)")
  echo "== round $ROUND/$ROUNDS: convviz, $EPOCHS epoch(s)" >&2
  rm -rf "$RUN/run"
  /usr/bin/time -f "%M" -o "$RUN/rss" .build/release/convviz train --data fashion-mnist --arch small --epochs "$EPOCHS" \
    --batch 128 --lr 0.05 --schedule constant --momentum 0.9 --weight-decay 5e-4 --seed 0 --out "$RUN/run" >&2
  CV_ALL+=("$(cat "$RUN/run/summary.json" | tr -d '\n')")
done
RT=$("$VENV/bin/python" Benchmarks/pytorch_smallconvnet.py evaluate "$RUN/run/checkpoint.safetensors")

"$VENV/bin/python" - "$(cat "$RUN/rss")" "$RT" "${#PT_ALL[@]}" "${PT_ALL[@]}" "${CV_ALL[@]}" <<'PY'
import json, sys
rss = int(sys.argv[1]) / 1024; rt = json.loads(sys.argv[2]); rounds = int(sys.argv[3])
pts = [json.loads(a) for a in sys.argv[4:4 + rounds]]; cvs = [json.loads(a) for a in sys.argv[4 + rounds:]]
pt, cv = pts[-1], cvs[-1]
for i, (p, c) in enumerate(zip(pts, cvs), 1):
    print(f"round {i}: PyTorch {p['images_per_second']:.0f} images/s, convviz {c['train_images_per_second']:.0f} images/s, "
          f"ratio {c['train_images_per_second'] / p['images_per_second']:.2f}")
best_pt = max(p['images_per_second'] for p in pts); best_cv = max(c['train_images_per_second'] for c in cvs)
print(f"{'':28}{'PyTorch':>12}{'convviz':>12}")
print(f"{'training images/s (best)':28}{best_pt:12.0f}{best_cv:12.0f}")
print(f"{'ratio convviz / PyTorch':28}{'':12}{best_cv / best_pt:12.2f}")
print(f"{'test accuracy':28}{pt['test_accuracy']:12.4f}{cv['test_accuracy']:12.4f}")
print(f"{'peak RSS (MiB)':28}{pt['peak_rss_mib']:12.0f}{rss:12.0f}")
print(f"convviz checkpoint loaded into PyTorch: test accuracy {rt['test_accuracy']:.4f} (convviz measured {cv['test_accuracy']:.4f})")
PY
rm -rf "$RUN"
