#!/usr/bin/env bash
# Training speed of convviz (release build) against PyTorch (CPU, same thread count) on
# two networks with the same recipe (SGD lr 0.05 constant, momentum 0.9, weight decay
# 5e-4, batch 128): SmallConvNet on Fashion-MNIST, and a VGG-style CIFAR-format network
# (Examples/vgg-cifar.json: 3x3 convolutions 3-64-64-128-256 with BatchNorm, ReLU and
# max pooling, then a linear layer) on CIFAR-10 binary batches (cifar10:DIR; a seeded
# synthetic set in that format when CIFAR_DIR is not given). Frameworks and networks
# alternate in ROUNDS rounds in one run and each keeps its best round, so a shared
# machine's drifting speed favours neither. Prints images/s per round, the ratios, the
# machine's SGEMM rate measured in the same run (before and after), the share of it
# that each framework's training reaches (2 x 3 x multiply-adds per image: forward,
# input and weight gradients), peak RSS and its ratio, and checks that convviz's
# SmallConvNet checkpoint loads into PyTorch (load_state_dict, strict) with the same
# test accuracy.
#
#   Benchmarks/compare_training.sh [ROUNDS] [SMALL_STEPS] [VGG_STEPS]
#   defaults: 2 rounds, 468 steps (one Fashion-MNIST epoch), 40 steps (one synthetic epoch)
#   THREADS=2 (both frameworks), CIFAR_DIR=/path/to/cifar-10-batches-bin (optional),
#   VGG=ARCH.json (optional: another CIFAR-format network in place of vgg-cifar.json),
#   CONVVIZ=path/to/convviz (optional: a release binary built elsewhere)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
SMALL_STEPS=${2:-468}
VGG_STEPS=${3:-40}
source Benchmarks/peer_setup.sh
STEPS=("$SMALL_STEPS" "$VGG_STEPS")
"$CV" bench sgemm --json --rounds 5 --threads "$THREADS" > "$RUN/sgemm-before.json"
: > "$RUN/results.jsonl"
for ROUND in $(seq "$ROUNDS"); do
  for i in 0 1; do
    echo "== round $ROUND/$ROUNDS: ${NETS[$i]}, ${STEPS[$i]} steps: PyTorch, then convviz ($THREADS threads)" >&2
    PT=$("$VENV/bin/python" Benchmarks/pytorch_peer.py train --arch "${NETS[$i]}" --data "${DATA[$i]}" --max-steps "${STEPS[$i]}" \
          --epochs 1000 --threads "$THREADS")
    OUT="$RUN/run$i"; rm -rf "$OUT"
    /usr/bin/time -f "%M" -o "$RUN/rss" "$CV" train --data "${DATA[$i]}" --arch "${NETS[$i]}" --epochs 1000 --max-steps "${STEPS[$i]}" \
      --batch 128 --lr 0.05 --schedule constant --momentum 0.9 --weight-decay 5e-4 --seed 0 --threads "$THREADS" --out "$OUT" >&2
    # Images/s from timing.json where the run writes one, else from summary.json.
    CVS=$({ cat "$OUT/summary.json"; cat "$OUT/timing.json" 2>/dev/null || true; } | "$VENV/bin/python" -c '
import json, sys
objs, dec, text = [], json.JSONDecoder(), sys.stdin.read().strip()
while text:
    o, n = dec.raw_decode(text); objs.append(o); text = text[n:].strip()
merged = {k: v for o in objs for k, v in o.items()}
print(json.dumps({"images_per_second": merged.get("train_images_per_second"), "test_accuracy": merged.get("test_accuracy")}))')
    MACS=$(macs "${NETS[$i]}")
    echo "{\"net\": $i, \"round\": $ROUND, \"macs\": $MACS, \"pytorch\": $PT, \"convviz\": $CVS, \"convviz_rss_kib\": $(cat "$RUN/rss")}" >> "$RUN/results.jsonl"
  done
done
"$CV" bench sgemm --json --rounds 5 --threads "$THREADS" > "$RUN/sgemm-after.json"
RT=$("$VENV/bin/python" Benchmarks/pytorch_peer.py evaluate --arch small --data fashion-mnist --weights "$RUN/run0/checkpoint.safetensors" --passes 1)

"$VENV/bin/python" - "$RUN" "$RT" "$VGG" <<'PY'
import json, sys
sys.path.insert(0, "Benchmarks")
from peer_rounds import load_rows, network_names, print_rounds
run, rt, vgg = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
rows = load_rows(run)
sgemm = [json.load(open(f"{run}/sgemm-{w}.json"))["gflops"] for w in ("before", "after")]
peak = max(sgemm)
print(f"SGEMM 1024^3 on {json.load(open(f'{run}/sgemm-before.json'))['threads']} threads (OpenBLAS {json.load(open(f'{run}/sgemm-before.json'))['blas']}): "
      f"{sgemm[0]:.1f} GFLOP/s before, {sgemm[1]:.1f} after; peak = {peak:.1f}")
for net, name in enumerate(network_names(vgg)):
    rs, bp, bc = print_rounds(rows, net, name)
    flops = 6 * rs[0]["macs"]
    rss_p = max(r["pytorch"]["peak_rss_mib"] for r in rs); rss_c = max(r["convviz_rss_kib"] for r in rs) / 1024
    print(f"  best: PyTorch {bp:.0f}, convviz {bc:.0f} images/s: ratio {bc / bp:.2f}")
    print(f"  training GFLOP/s (6 x {rs[0]['macs']:,} per image): PyTorch {bp * flops / 1e9:.1f} ({100 * bp * flops / 1e9 / peak:.0f}% of SGEMM), "
          f"convviz {bc * flops / 1e9:.1f} ({100 * bc * flops / 1e9 / peak:.0f}%)")
    print(f"  test accuracy: PyTorch {rs[-1]['pytorch']['test_accuracy']:.4f}, convviz {rs[-1]['convviz']['test_accuracy']:.4f}")
    print(f"  peak RSS: PyTorch {rss_p:.0f} MiB, convviz {rss_c:.0f} MiB: ratio {rss_c / rss_p:.2f}")
print(f"convviz's SmallConvNet checkpoint in PyTorch: test accuracy {rt['test_accuracy']:.4f} "
      f"(convviz measured {[r for r in rows if r['net'] == 0][-1]['convviz']['test_accuracy']:.4f})")
PY
