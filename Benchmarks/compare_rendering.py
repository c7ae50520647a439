"""The two benchmark figures drawn by convviz, matplotlib and torchvision, side by side
in one run on this machine.

  Benchmarks/.venv/bin/python Benchmarks/compare_rendering.py

Figures: 96 filters of 3x11x11 as 8x12 cells, x8 nearest upscale, 2 px gap; and 32
activation maps of 64x64, viridis, a title per map. Each to PNG and SVG (torchvision's
save_image writes raster files only, and has no titles or colormaps: it does less).

Whole-process time: a fresh process from start to file written (median of 5).
In-process time: the drawing and saving alone, after imports (best of 5).
"""
import json, os, statistics, subprocess, sys, tempfile, time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONVVIZ = os.path.join(ROOT, ".build", "release", "convviz")
PY = sys.executable

MATPLOTLIB = r'''
import sys, time
t0 = time.perf_counter()
import numpy as np, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
kind, src, out = sys.argv[1:4]
x = np.load(src)
t1 = time.perf_counter()
if kind == "filters":
    fig, axes = plt.subplots(8, 12, figsize=(12 * 88 / 100 + 1, 8 * 88 / 100 + 1), dpi=100)
    for ax, w in zip(axes.flat, x):
        m = np.abs(w).max() or 1
        ax.imshow((w.transpose(1, 2, 0) / m + 1) / 2, interpolation="nearest")
        ax.axis("off")
else:
    fig, axes = plt.subplots(4, 8, figsize=(8 * 0.9, 4 * 1.0), dpi=100)
    for i, (ax, m) in enumerate(zip(axes.flat, x)):
        ax.imshow(m, cmap="viridis", vmin=x.min(), vmax=x.max(), interpolation="nearest")
        ax.set_title(f"conv1 · {i}", fontsize=6)
        ax.axis("off")
fig.savefig(out)
print(time.perf_counter() - t1)
'''

TORCHVISION = r'''
import sys, time
t0 = time.perf_counter()
import numpy as np, torch
from torchvision.utils import make_grid, save_image
kind, src, out = sys.argv[1:4]
x = torch.from_numpy(np.load(src))
t1 = time.perf_counter()
if kind == "filters":
    m = x.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12)
    x = ((x / m + 1) / 2).repeat_interleave(8, 2).repeat_interleave(8, 3)
    save_image(make_grid(x, nrow=12, padding=2, pad_value=1), out)
else:
    x = ((x - x.min()) / (x.max() - x.min())).unsqueeze(1)
    save_image(make_grid(x, nrow=8, padding=2, pad_value=1), out)
print(time.perf_counter() - t1)
'''


def whole(cmd, runs=5):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def inproc(cmd, runs=5):
    return min(float(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()[-1]) for _ in range(runs))


def main():
    if not os.path.exists(CONVVIZ):
        sys.exit("build first: swift build -c release --product convviz")
    tmp = tempfile.mkdtemp()
    rng = np.random.default_rng(0)
    filters = os.path.join(tmp, "filters.npy"); np.save(filters, rng.standard_normal((96, 3, 11, 11)).astype(np.float32))
    maps = os.path.join(tmp, "maps.npy"); np.save(maps, rng.standard_normal((32, 64, 64)).astype(np.float32))
    mpl = os.path.join(tmp, "mpl.py"); open(mpl, "w").write(MATPLOTLIB)
    tv = os.path.join(tmp, "tv.py"); open(tv, "w").write(TORCHVISION)

    # convviz in-process times, from its own benchmark command.
    ours = {}
    out = subprocess.run([CONVVIZ, "bench", "render", "--filters", filters, "--maps", maps, "--out", tmp], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        ours[(parts[0], parts[2])] = float(parts[3]) / 1000

    rows = []
    for kind, src in [("filters", filters), ("maps", maps)]:
        for fmt in ["png", "svg"]:
            target = os.path.join(tmp, f"out.{fmt}")
            if kind == "filters":
                cv_cmd = [CONVVIZ, "filters", src, "-o", target, "--columns", "12", "--scale", "8", "--gap", "2"]
            else:
                cv_cmd = [CONVVIZ, "activations", "--maps", src, "--layer", "conv1", "-o", target, "--scale", "1"]
            row = {"figure": kind, "format": fmt,
                   "convviz_whole": whole(cv_cmd), "convviz_inproc": ours[(kind, fmt)],
                   "matplotlib_whole": whole([PY, mpl, kind, src, target]), "matplotlib_inproc": inproc([PY, mpl, kind, src, target])}
            if fmt == "png":
                row["torchvision_whole"] = whole([PY, tv, kind, src, target])
                row["torchvision_inproc"] = inproc([PY, tv, kind, src, target])
            rows.append(row)

    def cell(value, width, fmt):
        return format(value, fmt).rjust(width) if value is not None else "-".rjust(width)

    for title, suffix, scale in [("whole process, ms", "whole", 1e3), ("in process, ms", "inproc", 1e3)]:
        print(f"{'figure':9}{'fmt':5}{'convviz':>10}{'matplotlib':>12}{'torchvision':>13}{'mpl/cv':>9}{'tv/cv':>8}   ({title})")
        for r in rows:
            cv, mp, tv = r[f"convviz_{suffix}"], r[f"matplotlib_{suffix}"], r.get(f"torchvision_{suffix}")
            print(f"{r['figure']:9}{r['format']:5}{cell(cv * scale, 10, '.1f')}{cell(mp * scale, 12, '.1f')}{cell(tv and tv * scale, 13, '.1f')}"
                  f"{cell(mp / cv, 9, '.1f')}{cell(tv and tv / cv, 8, '.1f')}")
    json.dump(rows, open(os.path.join(tmp, "results.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
