#!/usr/bin/env python3
"""Do feature visualizations transfer? The README's numbers for `convviz visualize`.

Network A and network B are two SmallConvNets trained on Fashion-MNIST with different
seeds (`convviz train --data fashion-mnist --arch small --epochs 1 --seed 0|1`). For each
recipe, A's ten class logits are visualized (`--logit 0:10`, one image per class, in one
batch); B classifies the ten images (`convviz activations --layer fc` on the images
standardized as B was trained). A visualization "transfers" when B's top class is the
class A's image was made for. Run for several seeds; prints per seed and in total.

    Benchmarks/.venv/bin/python Benchmarks/feature_transfer.py --convviz .build/release/convviz \
        --a RUN_A --b RUN_B --seeds 0 1 2 --out Outputs/feature-transfer
"""
import argparse
import os
import subprocess
import sys

import numpy as np

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST's (ConvViz's Standardization.fashionMNIST)

RECIPES = {
    "lucid": [],  # Fourier parameterization, Lucid's transforms (the defaults)
    "pixel-none": ["--param", "pixel", "--transforms", "none"],
}


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    return p


def logits(convviz, model, images, out):
    """`model`'s logits [N, 10] for pixel images [N, 1, 28, 28] in [0, 1]."""
    z = os.path.join(out, "standardized.npy")
    np.save(z, ((images - MEAN) / STD).astype(np.float32))
    maps = os.path.join(out, "logits.npy")
    run([convviz, "activations", "--model", model, "--input", z, "--layer", "fc", "--save-maps", maps,
         "-o", os.path.join(out, "unused.png")])
    return np.load(maps)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--convviz", default=".build/release/convviz")
    ap.add_argument("--a", required=True, help="run directory of the network visualized")
    ap.add_argument("--b", required=True, help="run directory of the independent classifier")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--steps", type=int, default=512)
    ap.add_argument("--out", default="Outputs/feature-transfer")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    totals = {}
    for name, options in RECIPES.items():
        hits_b = hits_a = 0
        probs = []
        for seed in args.seeds:
            stem = os.path.join(args.out, f"logits-{name}-seed{seed}")
            run([args.convviz, "visualize", "--model", args.a, "--logit", "0:10", "--steps", str(args.steps),
                 "--seed", str(seed), *options, "-o", stem + ".png", "--save-images", stem + ".npy"])
            images = np.load(stem + ".npy")
            a = logits(args.convviz, args.a, images, args.out).argmax(1)
            zb = logits(args.convviz, args.b, images, args.out)
            b = zb.argmax(1)
            pb = np.exp(zb - zb.max(1, keepdims=True))
            pb /= pb.sum(1, keepdims=True)
            probs += list(pb[np.arange(10), np.arange(10)])
            hits_a += int((a == np.arange(10)).sum())
            hits_b += int((b == np.arange(10)).sum())
            print(f"{name} seed {seed}: A (visualized) says {a.tolist()}, B (independent) says {b.tolist()}; "
                  f"B right on {int((b == np.arange(10)).sum())}/10", flush=True)
        n = 10 * len(args.seeds)
        totals[name] = (hits_a, hits_b, n, float(np.median(probs)), float(np.min(probs)))
    for name, (ha, hb, n, med, low) in totals.items():
        print(f"{name}: network A classifies {ha}/{n} as intended, the independent network B {hb}/{n} "
              f"(B's probability of the intended class: median {med:.3f}, lowest {low:.3f})")


if __name__ == "__main__":
    main()
