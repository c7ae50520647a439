"""Writes the small PNG fixtures the reader tests use, with a hand-written encoder so
every variant is exactly what it says: bit depths 1-16, gray, gray+alpha, RGB, RGBA,
palette, and Adam7 interlacing. Run from this folder: python3 make_fixtures.py"""
import struct, zlib

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}

def pack_row(samples, depth):
    if depth == 16:
        return b"".join(struct.pack(">H", v) for v in samples)
    if depth == 8:
        return bytes(samples)
    out, acc, bits = bytearray(), 0, 0
    for v in samples:
        acc = (acc << depth) | v; bits += depth
        if bits == 8: out.append(acc); acc, bits = 0, 0
    if bits: out.append(acc << (8 - bits))
    return bytes(out)

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]

def png(path, pixels, color_type, depth, palette=None, interlace=False):
    """pixels[y][x] is a tuple of samples (palette index for type 3)."""
    h, w = len(pixels), len(pixels[0])
    raw = b""
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        for y in range(y0, h, dy):
            row = [s for x in range(x0, w, dx) for s in pixels[y][x]]
            if row: raw += b"\0" + pack_row(row, depth)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0))
    if palette: data += chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    data += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    open(path, "wb").write(data)

W, H = 5, 3
gray = [[((x * 50 + y * 20) % 256,) for x in range(W)] for y in range(H)]
png("gray8.png", gray, 0, 8)
png("gray16.png", [[(v * 257,) for (v,) in row] for row in gray], 0, 16)
png("gray_alpha8.png", [[(v, 255 if x % 2 == 0 else 0) for x, (v,) in enumerate(row)] for row in gray], 4, 8)
rgb = [[(x * 60, y * 100, 255 - x * 60) for x in range(W)] for y in range(H)]
png("rgb8.png", rgb, 2, 8)
png("rgb16.png", [[tuple(v * 257 for v in p) for p in row] for row in rgb], 2, 16)
png("rgba8.png", [[p + (255,) for p in row] for row in rgb], 6, 8)
palette = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
png("palette2.png", [[((x + y) % 4,) for x in range(W)] for y in range(H)], 3, 2, palette=palette)
big = [[(x * 25 % 256, y * 30 % 256, (x * y) % 256) for x in range(9)] for y in range(7)]
png("interlaced_rgb8.png", big, 2, 8, interlace=True)
png("plain_rgb8_9x7.png", big, 2, 8)
png("gray1.png", [[((x + y) % 2,) for x in range(W)] for y in range(H)], 0, 1)
