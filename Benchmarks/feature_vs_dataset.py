#!/usr/bin/env python3
"""How strong are the optimized images? For every channel of a layer, the objective
`convviz visualize` reaches (the channel's mean activation, Lucent's `channel`) against
the largest value of the same quantity over Fashion-MNIST test images (the first
--images of t10k, standardized as ConvViz's runs are).

    Benchmarks/.venv/bin/python Benchmarks/feature_vs_dataset.py --convviz .build/release/convviz \
        --model RUN --layer conv2 --channels 64 --images 1000
"""
import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

MEAN, STD = 0.2860, 0.3530
IDX = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--convviz", default=".build/release/convviz")
    ap.add_argument("--model", required=True)
    ap.add_argument("--layer", default="conv2")
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=512)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="feature_vs_dataset_")

    with gzip.open(IDX) as f:
        data = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
    x = ((data[: args.images].astype(np.float32) / 255 - MEAN) / STD).astype(np.float32)
    np.save(os.path.join(tmp, "test.npy"), x)
    run([args.convviz, "activations", "--model", args.model, "--input", os.path.join(tmp, "test.npy"), "--layer", args.layer,
         "--save-maps", os.path.join(tmp, "maps.npy"), "-o", os.path.join(tmp, "maps.png")])
    maps = np.load(os.path.join(tmp, "maps.npy"))[:, : args.channels]
    dataset_best = maps.reshape(maps.shape[0], maps.shape[1], -1).mean(2).max(0)

    # The figure's numbers are the objectives reached; read them from the saved images instead:
    # run the model on them the same way (resize is the identity at 28 px, then standardize).
    images = os.path.join(tmp, "units.npy")
    run([args.convviz, "visualize", "--model", args.model, "--layer", args.layer, "--channels", f"0:{args.channels}",
         "--steps", str(args.steps), "--save-images", images, "-o", os.path.join(tmp, "units.png")])
    z = ((np.load(images) - MEAN) / STD).astype(np.float32)
    np.save(os.path.join(tmp, "z.npy"), z)
    run([args.convviz, "activations", "--model", args.model, "--input", os.path.join(tmp, "z.npy"), "--layer", args.layer,
         "--save-maps", os.path.join(tmp, "own.npy"), "-o", os.path.join(tmp, "own.png")])
    own = np.load(os.path.join(tmp, "own.npy"))
    reached = np.array([own[c, c].mean() for c in range(args.channels)])

    print(f"{args.layer}, {args.channels} channels, {args.images} test images, {args.steps} steps")
    positive = dataset_best > 0
    ratio = reached[positive] / dataset_best[positive]
    print(f"channel mean reached: median {np.median(reached):.3f}; best test image's: median {np.median(dataset_best):.3f}; "
          f"optimized image above every test image in {int((reached > dataset_best).sum())}/{args.channels} channels; "
          f"ratio reached / best (channels whose best is positive, {int(positive.sum())}): "
          f"median {np.median(ratio):.2f}, min {ratio.min():.2f}, max {ratio.max():.2f}")


if __name__ == "__main__":
    main()
