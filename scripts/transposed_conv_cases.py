"""Output sizes of PyTorch's ConvTranspose2d (and Conv2d) for the table of cases in
Tests/ConvVizRenderTests/AnimationTests.swift, printed as Swift tuples to paste there,
and one transposed case's values: ConvViz's animation frames must count and compute the
same. Run: Benchmarks/.venv/bin/python scripts/transposed_conv_cases.py
"""
import torch

# (H, W, K, S, P, D, output_padding): conv_arithmetic's transposed cases and more.
CASES = [
    (2, 2, 3, 1, 0, 1, 0),  # no padding, unit strides (transpose of 4x4, k3)
    (5, 5, 3, 1, 1, 1, 0),  # half padding
    (7, 7, 3, 1, 2, 1, 0),  # full padding
    (2, 2, 3, 2, 0, 1, 0),  # no padding, strides (transpose of 5x5, k3, s2)
    (3, 3, 3, 2, 1, 1, 0),  # padding, strides
    (3, 3, 3, 2, 1, 1, 1),  # padding, strides, odd (output padding 1)
    (3, 3, 3, 1, 0, 2, 0),  # dilation
    (4, 6, 2, 3, 1, 1, 2),  # rectangular, output padding 2 < stride 3
    (3, 3, 4, 2, 3, 1, 0),  # padding larger than D(K-1): cropped
    (3, 3, 2, 1, 0, 3, 2),  # output padding 2 < dilation 3
    (1, 1, 5, 4, 0, 1, 0),
]

print("// (H, W, K, S, P, D, output_padding) -> (H_out, W_out) from torch.nn.ConvTranspose2d")
for h, w, k, s, p, d, op in CASES:
    m = torch.nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, dilation=d, output_padding=op, bias=False)
    y = m(torch.zeros(1, 1, h, w))
    print(f"({h}, {w}, {k}, {s}, {p}, {d}, {op}, {y.shape[2]}, {y.shape[3]}),")

# Values of one case: input 0..8, kernel 1..9 (row-major), stride 2, padding 1, output padding 1.
x = torch.arange(9, dtype=torch.float32).reshape(1, 1, 3, 3)
m = torch.nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1, bias=False)
with torch.no_grad():
    m.weight.copy_(torch.arange(1, 10, dtype=torch.float32).reshape(1, 1, 3, 3))
    y = m(x)
print("// ConvTranspose2d(k3, s2, p1, output_padding 1) of arange(9) with weights 1...9:")
print("[" + ", ".join(str(int(v)) for v in y.flatten().tolist()) + "]")
