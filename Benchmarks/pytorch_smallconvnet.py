"""SmallConvNet on Fashion-MNIST in PyTorch (CPU), the peer for `convviz train`.

Same network, recipe and data as `convviz train --data fashion-mnist --arch small`:
SGD lr 0.05, momentum 0.9, weight decay 5e-4, batch 128, inputs standardized with
mean 0.2860 and std 0.3530, last partial batch dropped.

  python pytorch_smallconvnet.py train --epochs 1 [--threads 2] [--json]
  python pytorch_smallconvnet.py evaluate CHECKPOINT.safetensors   # our checkpoint in PyTorch
  python pytorch_smallconvnet.py write-tensor OUT.safetensors OUT.npy # files for ConvViz to read
"""
import argparse, gzip, json, os, resource, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530


def load(split):
    with gzip.open(os.path.join(DATA, f"{split}-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(DATA, f"{split}-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    x = (torch.from_numpy(images.astype(np.float32) / 255.0) - MEAN) / STD
    return x, torch.from_numpy(labels.astype(np.int64))


class SmallConvNet(nn.Module):
    """The attribute names match ConvViz's layer names, so state dicts load both ways."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc = nn.Linear(3136, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(torch.flatten(x, 1))


def evaluate(model, x, y):
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), 500):
            out = model(x[i:i + 500])
            loss += F.cross_entropy(out, y[i:i + 500], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + 500]).sum().item()
    return loss / len(x), correct / len(x)


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_epoch(model, opt, x, y, order, steps, total, step, on_step=None):
    """One pass of SGD over `order` in batches of 128 (`steps` of them), stopping once
    `step` reaches `total`; calls `on_step(step, loss)` after each. Returns the step count
    and the seconds the pass took. Shared with pytorch_peer.py."""
    model.train()
    start = time.perf_counter()
    for b in range(steps):
        if step >= total:
            break
        idx = order[b * 128:(b + 1) * 128]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if on_step:
            on_step(step, loss)
    return step, time.perf_counter() - start


def train(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    model = SmallConvNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    steps_per_epoch = len(xtr) // 128
    total = min(args.max_steps or 10**9, args.epochs * steps_per_epoch)
    step, train_seconds, accuracies = 0, 0.0, []
    g = torch.Generator().manual_seed(args.seed)
    def log(step, loss):
        if step % 50 == 0 and not args.json:
            print(f"step {step} loss {loss.item():.4f}", file=sys.stderr)
    for epoch in range(args.epochs):
        order = torch.randperm(len(xtr), generator=g)
        step, seconds = train_epoch(model, opt, xtr, ytr, order, steps_per_epoch, total, step, log)
        train_seconds += seconds
        test_loss, test_acc = evaluate(model, xte, yte)
        accuracies.append(test_acc)
        if not args.json:
            print(f"epoch {epoch + 1} test loss {test_loss:.4f} accuracy {test_acc:.4f}", file=sys.stderr)
    result = {"images_per_second": step * 128 / train_seconds, "test_accuracy": accuracies[-1],
              "accuracy_per_epoch": accuracies, "peak_rss_mib": peak_rss_mib(), "steps": step, "threads": args.threads}
    print(json.dumps(result))


def evaluate_checkpoint(args):
    from safetensors.torch import load_file
    state = load_file(args.checkpoint)
    model = SmallConvNet()
    model.load_state_dict(state, strict=True)
    xte, yte = load("t10k")
    loss, acc = evaluate(model, xte, yte)
    print(json.dumps({"test_loss": loss, "test_accuracy": acc}))


def write_tensor(args):
    from safetensors.numpy import save_file
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)
    save_file({"conv1.weight": w, "other": np.arange(6, dtype=np.float64).reshape(2, 3)}, args.safetensors)
    np.save(args.npy, w)
    print(json.dumps({"sum": float(w.astype(np.float64).sum()), "first": float(w.flat[0])}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--max-steps", type=int)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--json", action="store_true")
    e = sub.add_parser("evaluate")
    e.add_argument("checkpoint")
    w = sub.add_parser("write-tensor")
    w.add_argument("safetensors")
    w.add_argument("npy")
    args = p.parse_args()
    {"train": train, "evaluate": evaluate_checkpoint, "write-tensor": write_tensor}[args.cmd](args)
