#!/usr/bin/env python3
"""Feature-visualization speed on the CPU: `convviz visualize` against Lucent's
`render_vis`, on the same network (a torchvision model with random weights, seeded,
exported to ONNX for ConvViz), the same image size, batch (one image per channel), number
of steps, transforms (Lucid's standard five, then the resize to 224 and ImageNet
normalization) and threads. Rounds alternate between the two; each prints steps/s and
the ratio convviz / Lucent.

Lucent runs the whole network every step (its hooks read the layer on the way); ConvViz
runs only the layers the objective depends on. `--layer` at the network's output
(`fc`, with `--logit`) makes both run everything.

    Benchmarks/.venv/bin/python Benchmarks/compare_lucent.py --convviz .build/release/convviz
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--convviz", default=".build/release/convviz")
    ap.add_argument("--model", default="resnet18", help="torchvision model name (random weights)")
    ap.add_argument("--layer", default="layer3", help="torchvision module path (layer3, layer2.1.conv2, fc)")
    ap.add_argument("--channels", type=int, default=4, help="units = images in the batch")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch
    import torchvision
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = getattr(torchvision.models, args.model)(weights=None).eval()

    tmp = tempfile.mkdtemp(prefix="compare_lucent_")
    onnx_path = os.path.join(tmp, f"{args.model}.onnx")
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), onnx_path, opset_version=13,
                      input_names=["input"], output_names=["logits"], dynamo=False)

    from lucent.optvis import objectives, param, render

    lucent_layer = args.layer.replace(".", "_")
    is_logit = args.layer == "fc"

    def run_lucent():
        obj = sum(objectives.channel(lucent_layer, c, batch=c) for c in range(args.channels))
        start = time.perf_counter()
        render.render_vis(model, obj, param_f=lambda: param.image(args.size, batch=args.channels),
                          thresholds=(args.steps,), show_image=False, progress=False)
        return args.steps / (time.perf_counter() - start)

    def run_convviz():
        unit = ["--logit", f"0:{args.channels}"] if is_logit else ["--channels", f"0:{args.channels}"]
        cmd = [args.convviz, "visualize", "--model", onnx_path, "--layer", args.layer, *unit,
               "--size", str(args.size), "--steps", str(args.steps), "--threads", str(args.threads),
               "-o", os.path.join(tmp, "units.png")]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"convviz failed: {' '.join(cmd)}\n{p.stderr}")
        # The progress lines' rate counts the optimization loop only (no loading, no drawing).
        rates = re.findall(r"([0-9.]+) steps/s", p.stderr)
        return float(rates[-1])

    print(f"{args.model} random weights, layer {args.layer}, {args.channels} images of {args.size} px, "
          f"{args.steps} steps, {args.threads} threads; torch {torch.__version__}; machine shared with other jobs")
    ratios = []
    for r in range(args.rounds):
        lucent = run_lucent()
        convviz = run_convviz()
        ratios.append(convviz / lucent)
        print(f"round {r + 1}: Lucent {lucent:.3f} steps/s, convviz {convviz:.3f} steps/s, ratio {convviz / lucent:.2f}", flush=True)
    ratios.sort()
    print(f"median ratio convviz / Lucent: {ratios[len(ratios) // 2]:.2f}")


if __name__ == "__main__":
    main()
