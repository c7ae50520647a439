#!/usr/bin/env bash
# Inference speed of `convviz evaluate` (release build: BatchNorm folded, ReLUs in the
# convolutions' epilogues) against PyTorch's evaluation mode (CPU, same thread count,
# torch.inference_mode, BatchNorm as a layer) at batch 128, on the test sets of
# SmallConvNet (Fashion-MNIST) and the VGG-style network (Examples/vgg-cifar.json,
# CIFAR-format data; synthetic unless CIFAR_DIR is given). Both evaluate the same
# weights: a short convviz training run per network, loaded into PyTorch with
# load_state_dict(strict=True), so their test accuracies must agree too. Frameworks
# alternate in ROUNDS rounds, each round PASSES passes over the test set, fastest kept.
#
#   Benchmarks/compare_inference.sh [ROUNDS] [PASSES]     (defaults 3 and 3)
#   THREADS=2, CIFAR_DIR=..., VGG=ARCH.json, CONVVIZ=path/to/convviz as in compare_training.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
PASSES=${2:-3}
source Benchmarks/peer_setup.sh
STEPS=(100 20)
for i in 0 1; do
  echo "== training ${NETS[$i]} for ${STEPS[$i]} steps (the weights both frameworks evaluate)" >&2
  "$CV" train --data "${DATA[$i]}" --arch "${NETS[$i]}" --max-steps "${STEPS[$i]}" --epochs 1000 --lr 0.05 --schedule constant \
    --seed 0 --threads "$THREADS" --out "$RUN/run$i" >&2
done
"$CV" bench sgemm --json --rounds 5 --threads "$THREADS" > "$RUN/sgemm.json"
: > "$RUN/results.jsonl"
for ROUND in $(seq "$ROUNDS"); do
  for i in 0 1; do
    echo "== round $ROUND/$ROUNDS: ${NETS[$i]}: PyTorch eval, then convviz evaluate" >&2
    PT=$("$VENV/bin/python" Benchmarks/pytorch_peer.py evaluate --arch "${NETS[$i]}" --data "${DATA[$i]}" \
          --weights "$RUN/run$i/checkpoint.safetensors" --batch 128 --passes "$PASSES" --threads "$THREADS")
    CVJ=$("$CV" evaluate "$RUN/run$i" --data "${DATA[$i]}" --batch 128 --passes "$PASSES" --threads "$THREADS" --json)
    MACS=$(macs "${NETS[$i]}")
    echo "{\"net\": $i, \"round\": $ROUND, \"macs\": $MACS, \"pytorch\": $PT, \"convviz\": $CVJ}" >> "$RUN/results.jsonl"
  done
done
"$VENV/bin/python" - "$RUN" "$VGG" <<'PY'
import json, sys
sys.path.insert(0, "Benchmarks")
from peer_rounds import load_rows, network_names, print_rounds
run, vgg = sys.argv[1], sys.argv[2]
rows = load_rows(run)
sgemm = json.load(open(f"{run}/sgemm.json"))
print(f"SGEMM 1024^3 on {sgemm['threads']} threads (OpenBLAS {sgemm['blas']}): {sgemm['gflops']:.1f} GFLOP/s")
for net, name in enumerate(network_names(vgg)):
    rs, bp, bc = print_rounds(rows, net, name)
    flops = 2 * rs[0]["macs"]
    print(f"  best: PyTorch {bp:.0f}, convviz {bc:.0f} images/s: ratio {bc / bp:.2f} "
          f"(convviz: {rs[0]['convviz']['batchnorm_folded']} BatchNorm folded, {rs[0]['convviz']['relu_fused']} ReLUs fused)")
    print(f"  inference GFLOP/s (2 x {rs[0]['macs']:,} per image): PyTorch {bp * flops / 1e9:.1f} ({100 * bp * flops / 1e9 / sgemm['gflops']:.0f}% of SGEMM), "
          f"convviz {bc * flops / 1e9:.1f} ({100 * bc * flops / 1e9 / sgemm['gflops']:.0f}%)")
    print(f"  test accuracy of the same weights: PyTorch {rs[-1]['pytorch']['test_accuracy']:.4f}, convviz {rs[-1]['convviz']['test_accuracy']:.4f}")
PY
