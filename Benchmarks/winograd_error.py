"""Float32 error of Winograd F(2x2, 5x5) against exact sums, simulated with numpy.

Builds the matrices as ConvViz's WinogradTransform does (Toom-Cook, the rows of B^T
divided by their smallest entry), for two choices of interpolation points, and measures:
- the weight gradient of one kernel summed over 392 tiles (8 samples of 49 tiles, one
  batch slice of SmallConvNet's conv2), relative to its largest entry;
- a forward output tile summed over 32 input channels (outputs of unit scale).
These set the tolerances of WinogradConvolutionTests: Winograd's weight gradients are
accurate to about 1e-5 of their largest entry, some ten times looser than im2col's.

    Benchmarks/.venv/bin/python Benchmarks/winograd_error.py     (needs numpy, sympy)
"""
from fractions import Fraction as Fr

import numpy as np
import sympy


def matrices(points, r):
    alpha = r + 1

    def evaluation(cols):
        return [[Fr(p) ** k for k in range(cols)] for p in points] + [[Fr(int(k == cols - 1)) for k in range(cols)]]

    g, h, v = evaluation(r), evaluation(2), evaluation(alpha)
    inverse = sympy.Matrix(v).inv()
    bt = [[inverse[j, i] for j in range(alpha)] for i in range(alpha)]
    for i in range(alpha):
        scale = min(abs(x) for x in bt[i] if x != 0)
        bt[i] = [x / scale for x in bt[i]]
        g[i] = [x * scale for x in g[i]]
    at = [[h[j][i] for j in range(alpha)] for i in range(2)]
    as_array = lambda m: np.array([[float(x) for x in row] for row in m], dtype=np.float32)
    return as_array(bt), as_array(g), as_array(at)


def weight_gradient_errors(bt, g, at, rng, trials=20, tiles=392):
    errors = []
    for _ in range(trials):
        d = rng.standard_normal((tiles, 6, 6))
        dy = rng.standard_normal((tiles, 2, 2))
        exact = np.zeros((5, 5))
        for a in range(5):
            for b in range(5):
                exact[a, b] = (d[:, a:a + 2, b:b + 2] * dy).sum()
        v = np.einsum("ij,tjk,lk->til", bt, d.astype(np.float32), bt).astype(np.float32)
        m = np.einsum("ji,tjk,kl->til", at, dy.astype(np.float32), at).astype(np.float32)
        du = np.zeros((6, 6), np.float32)
        for t in range(tiles):
            du = (du + v[t] * m[t]).astype(np.float32)
        dw = (g.T @ du @ g).astype(np.float32)
        errors.append(np.abs(dw - exact).max() / np.abs(exact).max())
    return np.array(errors)


def forward_errors(bt, g, at, rng, trials=200, channels=32):
    errors = []
    for _ in range(trials):
        d = rng.standard_normal((channels, 6, 6))
        k = rng.standard_normal((channels, 5, 5)) / np.sqrt(channels * 25)
        exact = np.array([[(d[:, i:i + 5, j:j + 5] * k).sum() for j in range(2)] for i in range(2)])
        u = np.einsum("ij,cjk,lk->cil", g, k.astype(np.float32), g).astype(np.float32)
        v = np.einsum("ij,cjk,lk->cil", bt, d.astype(np.float32), bt).astype(np.float32)
        m = np.zeros((6, 6), np.float32)
        for c in range(channels):
            m = (m + u[c] * v[c]).astype(np.float32)
        errors.append(np.abs((at @ m @ at.T).astype(np.float32) - exact).max())
    return np.array(errors)


rng = np.random.default_rng(0)
for points in [(0, 1, -1, Fr(1, 2), Fr(-1, 2)), (0, 1, -1, 2, -2)]:
    bt, g, at = matrices(points, 5)
    w, f = weight_gradient_errors(bt, g, at, rng), forward_errors(bt, g, at, rng)
    print(f"points {', '.join(map(str, points))}: weight gradient max|error|/max|dW| mean {w.mean():.1e}, max {w.max():.1e}; "
          f"forward |error| (unit-scale outputs) mean {f.mean():.1e}, max {f.max():.1e}")
