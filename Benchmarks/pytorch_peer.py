"""PyTorch (CPU) peer of `convviz train` and `convviz evaluate` for any chain
architecture in ConvViz's JSON format (conv, batchnorm, relu, maxpool, flatten, linear):
the same network, recipe and data, so the benchmark scripts compare like with like.

  python pytorch_peer.py train --arch small|ARCH.json --data fashion-mnist|cifar10:DIR
        [--epochs 1] [--max-steps N] [--threads 2] [--seed 0]        # one JSON line
  python pytorch_peer.py evaluate --arch ... --data ... [--weights CKPT.safetensors]
        [--batch 128] [--passes 3] [--threads 2]                     # eval mode, one JSON line
  python pytorch_peer.py synthetic-cifar DIR [--per-batch 1024]      # CIFAR-10 format files

Recipe as in compare_training.sh: SGD lr 0.05 constant, momentum 0.9, weight decay
5e-4, batch 128, last partial batch dropped. Fashion-MNIST is standardized with mean
0.2860 and std 0.3530 (ConvViz's constants); CIFAR-format data with the training set's
per-channel mean and std, as `convviz train` measures them.
"""
import argparse, gzip, json, os, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from pytorch_smallconvnet import peak_rss_mib, train_epoch

SMALL = {"name": "small", "input": [1, 28, 28], "layers": [
    {"type": "conv", "name": "conv1", "out": 32, "kernel": 5, "padding": 2}, {"type": "batchnorm", "name": "bn1"},
    {"type": "relu"}, {"type": "maxpool", "kernel": 2},
    {"type": "conv", "name": "conv2", "out": 64, "kernel": 5, "padding": 2}, {"type": "batchnorm", "name": "bn2"},
    {"type": "relu"}, {"type": "maxpool", "kernel": 2},
    {"type": "flatten"}, {"type": "linear", "name": "fc", "out": 10}]}


def pair(v):
    return tuple(v) if isinstance(v, list) else (v, v)


def build(arch):
    """An nn.Sequential whose parameter names are the layers' names (state dicts load both ways)."""
    model, (c, h, w) = nn.Sequential(), arch["input"]
    counts = {}
    for spec in arch["layers"]:
        t = spec["type"]
        counts[t] = counts.get(t, 0) + 1
        name = spec.get("name") or f"{t}{counts[t]}"
        if t == "conv":
            k, s, p = pair(spec["kernel"]), pair(spec.get("stride", 1)), pair(spec.get("padding", 0))
            m = nn.Conv2d(c, spec["out"], k, s, p, dilation=pair(spec.get("dilation", 1)), bias=spec.get("bias", True))
            c, h, w = spec["out"], (h + 2 * p[0] - k[0]) // s[0] + 1, (w + 2 * p[1] - k[1]) // s[1] + 1
        elif t == "batchnorm":
            m = nn.BatchNorm2d(c)
        elif t == "relu":
            m = nn.ReLU(inplace=True)
        elif t == "maxpool":
            k = pair(spec["kernel"]); s = pair(spec.get("stride", spec["kernel"]))
            m = nn.MaxPool2d(k, s, pair(spec.get("padding", 0)))
            h, w = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
        elif t == "flatten":
            m = nn.Flatten()
            c, h, w = c * h * w, 1, 1
        elif t == "linear":
            m = nn.Linear(c, spec["out"], bias=spec.get("bias", True))
            c = spec["out"]
        else:
            raise SystemExit(f"pytorch_peer.py: layer type {t} not supported")
        model.add_module(name, m)
    return model


def load_data(data):
    if data == "fashion-mnist":
        def read(split):
            base = "/usr/share/datasets/fashion-mnist"
            with gzip.open(f"{base}/{split}-images-idx3-ubyte.gz") as f:
                x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
            with gzip.open(f"{base}/{split}-labels-idx1-ubyte.gz") as f:
                y = np.frombuffer(f.read(), np.uint8, offset=8)
            return (torch.from_numpy(x.astype(np.float32) / 255) - 0.2860) / 0.3530, torch.from_numpy(y.astype(np.int64))
        return read("train"), read("t10k")
    assert data.startswith("cifar10:"), data
    d = data[len("cifar10:"):]

    def read(names):
        raw = np.concatenate([np.fromfile(os.path.join(d, n), np.uint8).reshape(-1, 3073) for n in names])
        return torch.from_numpy(raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255), torch.from_numpy(raw[:, 0].astype(np.int64))
    (xtr, ytr), (xte, yte) = read([f"data_batch_{i}.bin" for i in range(1, 6)]), read(["test_batch.bin"])
    mean = xtr.mean(dim=(0, 2, 3), keepdim=True); std = xtr.std(dim=(0, 2, 3), keepdim=True)
    return ((xtr - mean) / std, ytr), ((xte - mean) / std, yte)


def architecture(name):
    if name == "small":
        return SMALL
    with open(name) as f:
        return json.load(f)


def accuracy(model, x, y, batch=500):
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = model(x[i:i + batch])
            loss += F.cross_entropy(out, y[i:i + batch], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    return loss / len(x), correct / len(x)


def train(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    (xtr, ytr), (xte, yte) = load_data(args.data)
    model = build(architecture(args.arch))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    steps_per_epoch = len(xtr) // 128
    total = min(args.max_steps or 10**9, args.epochs * steps_per_epoch)
    g = torch.Generator().manual_seed(args.seed)
    step, seconds = 0, 0.0
    while step < total:
        order = torch.randperm(len(xtr), generator=g)
        step, epoch_seconds = train_epoch(model, opt, xtr, ytr, order, steps_per_epoch, total, step)
        seconds += epoch_seconds
    model.eval()
    test_loss, test_acc = accuracy(model, xte, yte)
    print(json.dumps({"images_per_second": step * 128 / seconds, "steps": step, "test_accuracy": test_acc,
                      "test_loss": test_loss, "peak_rss_mib": peak_rss_mib(), "threads": args.threads}))


def evaluate(args):
    torch.set_num_threads(args.threads)
    _, (x, y) = load_data(args.data)
    model = build(architecture(args.arch))
    if args.weights:
        from safetensors.torch import load_file
        state = {k: v for k, v in load_file(args.weights).items()}
        model.load_state_dict(state, strict=True)
    model.eval()
    times = []
    with torch.inference_mode():
        model(x[:args.batch])  # warm-up
        for _ in range(args.passes):
            seconds = 0.0
            for i in range(0, len(x), args.batch):
                xb = x[i:i + args.batch]
                t0 = time.perf_counter()
                model(xb)
                seconds += time.perf_counter() - t0
            times.append(seconds)
    loss, acc = accuracy(model, x, y, args.batch)
    print(json.dumps({"images_per_second": len(x) / min(times), "all_seconds": times, "images": len(x), "batch": args.batch,
                      "test_accuracy": acc, "test_loss": loss, "threads": args.threads}))


def synthetic_cifar(args):
    """Random CIFAR-10 binary batches (label byte + 3072 pixel bytes): a CIFAR-format set
    for speed measurements on a machine without the real one. Seeded, so both frameworks
    read the same bytes."""
    os.makedirs(args.dir, exist_ok=True)
    rng = np.random.default_rng(0)
    for i, name in enumerate([f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]):
        n = args.per_batch
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        # Pixels with a class-dependent mean, so that a network can learn something.
        pixels = np.clip(rng.normal(96 + 12 * labels[:, None], 40, (n, 3072)), 0, 255).astype(np.uint8)
        np.concatenate([labels[:, None], pixels], axis=1).tofile(os.path.join(args.dir, name))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("train", "evaluate"):
        s = sub.add_parser(name)
        s.add_argument("--arch", default="small")
        s.add_argument("--data", default="fashion-mnist")
        s.add_argument("--threads", type=int, default=2)
    t = sub.choices["train"]
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--max-steps", type=int)
    t.add_argument("--seed", type=int, default=0)
    e = sub.choices["evaluate"]
    e.add_argument("--weights")
    e.add_argument("--batch", type=int, default=128)
    e.add_argument("--passes", type=int, default=3)
    c = sub.add_parser("synthetic-cifar")
    c.add_argument("dir")
    c.add_argument("--per-batch", type=int, default=1024)
    args = p.parse_args()
    {"train": train, "evaluate": evaluate, "synthetic-cifar": synthetic_cifar}[args.cmd](args)
