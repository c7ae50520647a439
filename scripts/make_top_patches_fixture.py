#!/usr/bin/env python3
"""Writes the top-patches test fixture (Python standard library only):

Tests/ConvVizCoreTests/Fixtures/top-patches/
  window.json          architecture: input [1, 8, 8], one 3x3 convolution, pad 1, 2 channels
  window.safetensors   its weights: channel 0 sums the 3x3 window around a unit (all ones);
                       channel 1 is the pixel up-left of the unit (a single 1 at [0, 0])
  images/a/*.png, images/b/*.png   12 grayscale 8x8 images (a folder: data set)

Images (index = order of `folder:`: class a's files sorted, then class b's):
  0  a 3x3 block of 200 at rows 2-4, columns 3-5
  1  a 3x3 block of 100 at rows 4-6, columns 4-6
  2  one pixel of 255 at (0, 0): the field of the best unit passes the border
  3  a 3x3 block of 150 at rows 1-3, columns 1-3
  4  a 3x3 block of 150 at rows 5-7, columns 0-2 (ties with 3: 3 ranks first)
  5-11 black (value 0 everywhere)
With mean 0 and std 1 (values v / 255), channel 0's best units are the blocks' centres
with 9 v / 255, and channel 1's are the top-left-most units whose up-left pixel is in
the block, with v / 255.
"""
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "ConvVizCoreTests", "Fixtures", "top-patches")


def png(path, pixels):
    """An 8-bit grayscale PNG of `pixels` (rows of ints)."""
    h, w = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def safetensors(path, tensors):
    header, payload = {}, b""
    for name, (shape, values) in tensors.items():
        data = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(payload), len(payload) + len(data)]}
        payload += data
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + payload)


def image(blocks):
    pixels = [[0] * 8 for _ in range(8)]
    for (top, left, size, value) in blocks:
        for y in range(top, top + size):
            for x in range(left, left + size):
                pixels[y][x] = value
    return pixels


def main():
    specs = [[(2, 3, 3, 200)], [(4, 4, 3, 100)], [(0, 0, 1, 255)], [(1, 1, 3, 150)], [(5, 0, 3, 150)]] + [[]] * 7
    for cls in ("a", "b"):
        os.makedirs(os.path.join(OUT, "images", cls), exist_ok=True)
    for i, blocks in enumerate(specs):
        cls = "a" if i < 6 else "b"
        png(os.path.join(OUT, "images", cls, "%02d.png" % i), image(blocks))
    arch = {"name": "window", "input": [1, 8, 8], "layers": [
        {"type": "conv", "name": "window", "out": 2, "kernel": 3, "padding": 1, "bias": False}]}
    with open(os.path.join(OUT, "window.json"), "w") as f:
        json.dump(arch, f)
        f.write("\n")
    weights = [1.0] * 9 + [1.0] + [0.0] * 8
    safetensors(os.path.join(OUT, "window.safetensors"), {"window.weight": ([2, 1, 3, 3], weights)})


if __name__ == "__main__":
    main()
