#!/usr/bin/env python3
"""Hostile-input corpus by class (issue 30): sizes whose product is small but whose factors
are not, duplicate names, counters at their limits, input channels photographs cannot give.

Builds each case in a temporary folder, runs the convviz binary on it and checks the
outcome a careful user expects: a refusal is exit status 1 with one last line
"Error: ..." that names the file (or option) and the culprit, within a time limit, never a
trap (a signal, "Fatal error", "failed to allocate"); a case marked `works` exits 0.
Prints one line per case and the pass count.

    scripts/hostile_corpus.py [--convviz .build/debug/convviz] [--only CLASS]

Standard library only (no NumPy, no onnx): the files are written byte by byte.
"""
import argparse, json, os, shutil, struct, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "Sources/ConvVizCore/Resources/samples")
INT_MAX = 2**63 - 1


def npy(path, shape, data=b""):
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s,), }\n" % ", ".join(map(str, shape))
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode() + data)
    return path


def safetensors(path, header_text, payload=0):
    raw = header_text.encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + bytes(payload))
    return path


# Protocol buffers by hand (just what an ONNX model with initializers and nodes needs).
def varint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(number, value):
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def onnx(path, initializers=(), nodes=(), output="y"):
    graph = b""
    for n in nodes:  # NodeProto: input 1, output 2, name 3, op_type 4
        graph += field(1, b"".join(field(1, i) for i in n["inputs"]) + b"".join(field(2, o) for o in n["outputs"]) + field(3, n["name"]) + field(4, n["op"]))
    graph += field(2, "g")
    for name, dims in initializers:  # TensorProto: dims 1, data_type 2, name 8, raw_data 9
        count = 0 if 0 in dims else 1
        for d in dims:
            count *= d if count else 1
        raw = bytes(4 * count) if count <= 1 << 16 else b""
        graph += field(5, b"".join(field(1, d) for d in dims) + field(2, 1) + field(8, name) + field(9, raw))
    value_type = field(1, field(1, 1) + field(2, b"".join(field(1, field(1, d)) for d in (1, 1, 2, 2))))  # tensor_type: elem_type, shape
    graph += field(11, field(1, "x") + field(2, value_type))
    graph += field(12, field(1, output) + field(2, value_type))
    model = field(1, 8) + field(7, graph) + field(8, field(2, 17))  # ir_version, graph, opset_import(version)
    with open(path, "wb") as f:
        f.write(model)
    return path


def architecture(path, layers, input_shape=(3, 16, 16)):
    text = '{"name": "%s", "input": %s, "layers": %s}' % (os.path.basename(path)[:-5], json.dumps(list(input_shape)), layers)
    with open(path, "w") as f:
        f.write(text)
    return path


TINY = '[{"type": "conv", "name": "conv1", "out": 4, "kernel": 3}, {"type": "relu"}, {"type": "maxpool", "kernel": 4}, {"type": "flatten"}, {"type": "linear", "out": 7}]'


class Corpus:
    def __init__(self, convviz, tmp):
        self.convviz, self.tmp = convviz, tmp
        self.results = []

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run(self, args, timeout):
        start = time.time()
        try:
            p = subprocess.run([self.convviz] + args, capture_output=True, text=True, timeout=timeout)
            return p.returncode, p.stdout, p.stderr, time.time() - start
        except subprocess.TimeoutExpired:
            return None, "", "", time.time() - start

    def case(self, klass, name, args, mentions=(), works=False, timeout=30):
        status, out, err, seconds = self.run(args, timeout)
        last = err.strip().split("\n")[-1] if err.strip() else ""
        trapped = status is not None and (status < 0 or status not in (0, 1, 64)) or "Fatal error" in err or "failed to allocate" in err
        if status is None:
            ok, why = False, f"still running after {timeout} s"
        elif trapped:
            ok, why = False, f"status {status}: {last[:160]}"
        elif works:
            ok, why = status == 0, ("exit 0" if status == 0 else f"refused: {last[:160]}")
        else:
            # Exit 1: the error is the last line; exit 64 (an option refused by the parser): the first.
            if status == 64:
                last = next((l for l in err.split("\n") if l.startswith("Error: ")), last)
            missing = [m for m in mentions if m not in last]
            ok = status in (1, 64) and last.startswith("Error: ") and not missing
            why = last[:160] if ok else f"status {status}, missing {missing}: {last[:160]}"
        self.results.append((klass, name, ok))
        print(f"{'pass' if ok else 'FAIL'}  [{klass}] {name}: {why} ({seconds:.1f} s)", flush=True)


def sizes(c):
    out = c.path("o.svg")
    z = npy(c.path("zero-2-40.npy"), (0, 2**40, 2))
    for cmd in (["inspect", z], ["filters", z, "-o", out], ["norms", "--tensor", z, "-o", out], ["pooling", "--input", z, "-o", out], ["taxonomy", z]):
        c.case("sizes", f"npy [0, 2^40, 2]: {cmd[0]}", cmd, [z])
    a = npy(c.path("zero-2-29.npy"), (2**29, 0, 1, 1))
    for view in ("mosaic", "grid", "pca"):
        c.case("sizes", f"npy [2^29, 0, 1, 1]: filters --view {view}", ["filters", a, "--view", view, "-o", out], [a, "zero dimension"])
    g = npy(c.path("zero-16384.npy"), (1, 0, 16384, 16384))
    c.case("sizes", "npy [1, 0, 16384, 16384]: filters --view grid", ["filters", g, "--view", "grid", "-o", out], [g, "zero dimension"])
    s = safetensors(c.path("zero-huge.safetensors"), '{"t": {"dtype": "F32", "shape": [0, 4294967296, 65536], "data_offsets": [0, 0]}}')
    for cmd in (["inspect", s], ["filters", s, "-o", out]):
        c.case("sizes", f"safetensors [0, 2^32, 2^16]: {cmd[0]}", cmd, [s])
    o = safetensors(c.path("offsets.safetensors"), '{"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 9223372036854775807]}}', 8)
    c.case("sizes", "safetensors offsets [0, Int.max]", ["inspect", o], [o])
    o2 = safetensors(c.path("offsets-neg.safetensors"), '{"t": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}}', 8)
    c.case("sizes", "safetensors offsets [-8, 0]", ["inspect", o2], [o2])
    x = c.path("zero-huge.idx")
    with open(x, "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", 0, 0xFFFFFFFF, 0xFFFF))
    c.case("sizes", "IDX [0, 2^32-1, 65535]: inspect", ["inspect", x], [x])
    n = onnx(c.path("zero-huge.onnx"), initializers=[("w", [0, 2**40, 2])], nodes=[{"name": "r", "op": "Relu", "inputs": ["x"], "outputs": ["y"]}])
    c.case("sizes", "ONNX initializer [0, 2^40, 2]: inspect", ["inspect", n], [n])
    big = architecture(c.path("big.json"), TINY, (3, 4096, 4096))
    c.case("sizes", "train --data samples, input [3, 4096, 4096]", ["train", "--data", "samples", "--arch", big, "--max-steps", "1", "--out", c.path("r-big")], ["samples", "--max-elements"])
    wide = architecture(c.path("wide.json"), TINY, (3, 400, 400))
    c.case("sizes", "train --data samples, input [3, 400, 400], limit raised", ["train", "--data", "samples", "--arch", wide, "--max-steps", "1", "--max-elements", "1000000000000", "--out", c.path("r-wide")], ["300"])
    rect = architecture(c.path("rect.json"), TINY, (3, 16, 32))
    c.case("sizes", "train --data samples, input [3, 16, 32]", ["train", "--data", "samples", "--arch", rect, "--max-steps", "1", "--out", c.path("r-rect")], ["square"])
    layers = ['{"type": "relu", "name": "c0"}'] + ['{"type": "concat", "name": "c%d", "inputs": ["c%d", "c%d"]}' % (k, k - 1, k - 1) for k in range(1, 60)]
    cat = architecture(c.path("concat.json"), "[" + ", ".join(layers) + "]", (1 << 20, 2, 2))
    c.case("sizes", "59 concatenations of 2^20 channels: shapes", ["shapes", cat], [cat, "overflows"])


def duplicates(c):
    out = c.path("o.svg")
    d = safetensors(c.path("dup.safetensors"), '{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}', 8)
    for cmd in (["inspect", d], ["filters", d, "-o", out], ["export", d, "w", "-o", c.path("w.npy")]):
        c.case("duplicates", f"safetensors tensor twice: {cmd[0]}", cmd, [d, "'w' twice"])
    e = safetensors(c.path("dup-escaped.safetensors"), '{"conv1.weight": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "\\u0063onv1.weight": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}', 8)
    c.case("duplicates", "safetensors tensor twice, one spelled with \\u0063", ["inspect", e], [e, "'conv1.weight' twice"])
    m = safetensors(c.path("dup-meta.safetensors"), '{"__metadata__": {"format": "pt", "format": "np"}, "t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', 4)
    c.case("duplicates", "safetensors __metadata__ key twice", ["inspect", m], [m, "'format' twice"])
    k = safetensors(c.path("dup-key.safetensors"), '{"t": {"dtype": "F32", "dtype": "I8", "shape": [1], "data_offsets": [0, 4]}}', 4)
    c.case("duplicates", "safetensors entry key twice", ["inspect", k], [k, "'dtype' twice"])
    names = architecture(c.path("dup-names.json"), '[{"type": "conv", "name": "a", "out": 4, "kernel": 3}, {"type": "relu", "name": "a"}, {"type": "flatten"}, {"type": "linear", "out": 7}]')
    c.case("duplicates", "architecture layer named twice: shapes", ["shapes", names], [names, "'a'"])
    c.case("duplicates", "architecture layer named twice: train", ["train", "--data", "samples", "--arch", names, "--max-steps", "1", "--out", c.path("r-dup")], [names, "'a'"])
    keys = architecture(c.path("dup-keys.json"), '[{"type": "conv", "out": 4, "out": 8, "kernel": 3}]')
    c.case("duplicates", "architecture key twice in a layer", ["shapes", keys], [keys, "'out' is given twice"])
    top = c.path("dup-top.json")
    with open(top, "w") as f:
        f.write('{"name": "t", "input": [3, 8, 8], "layers": [{"type": "relu"}], "layers": [{"type": "flatten"}]}')
    c.case("duplicates", "architecture 'layers' twice", ["shapes", top], [top, "'layers' is given twice"])
    relu = lambda name, i, o: {"name": name, "op": "Relu", "inputs": [i], "outputs": [o]}
    oi = onnx(c.path("dup-init.onnx"), initializers=[("w", [1]), ("w", [2])], nodes=[relu("r", "x", "y")])
    c.case("duplicates", "ONNX initializer twice", ["inspect", oi], [oi, "'w' is given twice"])
    on = onnx(c.path("dup-node.onnx"), nodes=[relu("a", "x", "h"), relu("b", "x", "h"), relu("c", "h", "y")])
    for cmd in (["inspect", on], ["shapes", on]):
        c.case("duplicates", f"ONNX value defined by two nodes: {cmd[0]}", cmd, [on, "'h' is defined twice"])
    os_ = onnx(c.path("dup-shadow.onnx"), initializers=[("h", [1])], nodes=[relu("a", "x", "h"), relu("c", "h", "y")])
    c.case("duplicates", "ONNX node output over an initializer", ["inspect", os_], [os_, "'h' is defined twice"])


def counters(c):
    arch = architecture(c.path("tiny.json"), TINY)
    run = c.path("run")
    status, _, err, _ = c.run(["train", "--data", "samples", "--arch", arch, "--max-steps", "3", "--batch", "16", "--out", run], 300)
    if status != 0:
        print(f"FAIL  could not train the run the counter cases resume: {err.strip()[-200:]}")
        c.results.append(("counters", "setup", False))
        return
    ckpt = os.path.join(run, "checkpoint.safetensors")
    with open(ckpt, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header, payload = json.loads(raw[8:8 + n]), raw[8 + n:]

    def variant(name, step=None, epoch=None):
        h = json.loads(json.dumps(header))
        if step is not None:
            h["__metadata__"]["convviz.step"] = step
        if epoch is not None:
            h["__metadata__"]["convviz.epoch"] = epoch
        folder = c.path(name)
        os.makedirs(folder, exist_ok=True)
        text = json.dumps(h)
        text += " " * ((8 - len(text) % 8) % 8)
        path = os.path.join(folder, "checkpoint.safetensors")
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text.encode() + payload)
        return folder, path

    for name, step, epoch in (("int-max", str(INT_MAX), "1"), ("2-53-plus-1", str(2**53 + 1), "1"), ("negative", "-5", "0"), ("beyond-int", "9223372036854775808", "1"), ("epoch-past-step", "3", "9")):
        folder, path = variant(name, step, epoch)
        c.case("counters", f"checkpoint step {step} epoch {epoch}: inspect", ["inspect", path], [path])
        c.case("counters", f"checkpoint step {step} epoch {epoch}: train --resume", ["train", "--resume", folder, "--data", "samples", "--batch", "16", "--out", folder], [path])
    folder, path = variant("past-end", "50", "1")
    c.case("counters", "resume at step 50 with --max-steps 10", ["train", "--resume", folder, "--data", "samples", "--batch", "16", "--max-steps", "10", "--out", folder], [path, "step 50", "--max-steps 10"])
    for epochs in (str(2**62), str(INT_MAX), str(10**15)):
        c.case("counters", f"--epochs {epochs} without --max-steps", ["train", "--data", "samples", "--arch", arch, "--batch", "16", "--epochs", epochs, "--out", c.path("r-epochs")], ["--epochs", "--max-steps"], timeout=120)
    c.case("counters", "--max-steps 2^53+1 with --epochs Int.max", ["train", "--data", "samples", "--arch", arch, "--epochs", str(INT_MAX), "--max-steps", str(2**53 + 1), "--out", c.path("r-max")], ["--max-steps"], timeout=120)
    c.case("counters", "--epochs 2^62 with --max-steps 2", ["train", "--data", "samples", "--arch", arch, "--batch", "16", "--epochs", str(2**62), "--max-steps", "2", "--out", c.path("r-both")], works=True, timeout=300)
    c.case("counters", "--batch Int.max", ["train", "--data", "samples", "--arch", arch, "--batch", str(INT_MAX), "--max-steps", "1", "--out", c.path("r-batch")], works=True, timeout=300)
    c.case("counters", "--seed UInt64.max", ["train", "--data", "samples", "--arch", arch, "--batch", "16", "--seed", str(2**64 - 1), "--max-steps", "1", "--out", c.path("r-seed")], works=True, timeout=300)
    c.case("counters", "--log-every Int.max", ["train", "--data", "samples", "--arch", arch, "--batch", "16", "--log-every", str(INT_MAX), "--max-steps", "2", "--out", c.path("r-log")], works=True, timeout=300)
    c.case("counters", "--epochs 0", ["train", "--data", "samples", "--arch", arch, "--epochs", "0", "--out", c.path("r-zero")], ["--epochs"])


def channels(c):
    folder = c.path("photos")
    os.makedirs(os.path.join(folder, "cat"), exist_ok=True)
    os.makedirs(os.path.join(folder, "dog"), exist_ok=True)
    shutil.copy(os.path.join(SAMPLES, "astronaut.png"), os.path.join(folder, "cat", "a.png"))
    shutil.copy(os.path.join(SAMPLES, "coffee.png"), os.path.join(folder, "dog", "b.png"))
    shutil.copy(os.path.join(SAMPLES, "chelsea.png"), os.path.join(folder, "dog", "c.png"))
    for n in (2, 4, 5):
        arch = architecture(c.path(f"c{n}.json"), TINY, (n, 16, 16))
        for data in ("samples", "folder:" + folder):
            c.case("channels", f"input [{n}, 16, 16], --data {data.split(':')[0]}", ["train", "--data", data, "--arch", arch, "--max-steps", "1", "--out", c.path(f"r-c{n}")], [f"{n}-channel"])
    arch4 = architecture(c.path("c4b.json"), TINY, (4, 16, 16))
    c.case("channels", "activations of a 4-channel network on a photo", ["activations", "--model", arch4, "--image", os.path.join(SAMPLES, "astronaut.png"), "--layer", "conv1", "-o", c.path("act.png")], ["4"])
    c.case("channels", "gray photos into an RGB network (a real conversion)", ["train", "--data", "folder:" + folder, "--arch", architecture(c.path("c1.json"), TINY, (1, 16, 16)), "--max-steps", "1", "--batch", "1", "--out", c.path("r-c1")], works=True, timeout=300)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--convviz", default=os.path.join(ROOT, ".build/debug/convviz"))
    ap.add_argument("--only", choices=["sizes", "duplicates", "counters", "channels"])
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="convviz-hostile-")
    c = Corpus(os.path.abspath(args.convviz), tmp)
    try:
        for klass in (sizes, duplicates, counters, channels):
            if args.only in (None, klass.__name__):
                klass(c)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(ok for _, _, ok in c.results)
    by_class = {}
    for k, _, ok in c.results:
        by_class.setdefault(k, [0, 0])[0] += ok
        by_class[k][1] += 1
    print(f"{passed} of {len(c.results)} cases pass (" + ", ".join(f"{k} {p}/{t}" for k, (p, t) in by_class.items()) + ")")
    sys.exit(0 if passed == len(c.results) else 1)


if __name__ == "__main__":
    main()
