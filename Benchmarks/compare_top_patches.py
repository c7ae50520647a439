"""`convviz top-patches` against a PyTorch reference, and its speed against `convviz
evaluate`, by hand (not in CI; release build):

  swift build -c release --product convviz
  Benchmarks/.venv/bin/python Benchmarks/compare_top_patches.py reference [--top 9] [--run RUN]
  Benchmarks/.venv/bin/python Benchmarks/compare_top_patches.py speed [--rounds 3] [--threads 2]
  Benchmarks/.venv/bin/python Benchmarks/compare_top_patches.py memory

reference: SmallConvNet with the weights of a short `convviz train` run (100 steps, seed
0; or --run RUN) is loaded into PyTorch, exported to ONNX (TorchScript exporter, eval
mode, BatchNorm kept as a node), and `convviz top-patches` scans Fashion-MNIST's test
set through the ONNX file at conv1 and conv2. PyTorch computes the same ranking on its
own model: per channel and image the spatial maximum (first in row-major order), images
ranked by value, ties by image index; inputs standardized with mean 0.2860 and std
0.3530 as ConvViz does for fashion-mnist. Prints, per layer, how many channels have the
same ordered (image, y, x) lists and the same sets, and the largest value difference.

speed: SmallConvNet and Examples/vgg-fmnist.json, each with the weights of a short
`convviz train` run, over Fashion-MNIST's 10,000 test images at batch 128. Rounds
alternate `convviz evaluate RUN --passes 1` (its own images/s: forward passes only) and
`convviz top-patches --model RUN --layer fc` (the same prefix, the whole network; its
images/s are wall time of the whole scan: reading, standardizing, the network, the
ranking); also top-patches at an inner layer (a shorter prefix, for information). The
best round of each is kept; prints the ratio top-patches / evaluate.

memory: peak RSS of `convviz top-patches` over 6,000 and over 60,000 images of
Fashion-MNIST's training split (SmallConvNet conv1), from getrusage of the children,
beside `convviz evaluate`'s (which holds the data set) for scale.

CONVVIZ=path/to/convviz measures another binary. The machine may be shared: rounds are
interleaved so both commands see the same load.
"""
import argparse, json, os, re, resource, subprocess, sys, tempfile, time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Benchmarks"))

CV = os.environ.get("CONVVIZ", os.path.join(ROOT, ".build/release/convviz"))


def run(args, **kw):
    r = subprocess.run([CV] + args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"convviz {' '.join(args)} failed:\n{r.stderr}")
    return r


def train(arch, steps, out, threads):
    print(f"== convviz train {arch} for {steps} steps", file=sys.stderr)
    run(["train", "--data", "fashion-mnist", "--arch", arch, "--max-steps", str(steps), "--epochs", "1000",
         "--seed", "0", "--threads", str(threads), "--out", out])


def scan_rate(stderr):
    m = re.search(r"scanned (\d+) images .* in ([\d.]+) s: (\d+) images/s", stderr)
    return int(m.group(1)), float(m.group(2))


def reference(args):
    import torch
    from safetensors.torch import load_file
    from pytorch_smallconvnet import SmallConvNet, load
    work = tempfile.mkdtemp()
    run_dir = args.run
    if not run_dir:
        run_dir = os.path.join(work, "run")
        train("small", 100, run_dir, 2)
    model = SmallConvNet()
    state = {k: v for k, v in load_file(os.path.join(run_dir, "checkpoint.safetensors")).items() if k in SmallConvNet().state_dict()}
    model.load_state_dict(state, strict=True)
    model.eval()
    onnx_path = os.path.join(work, "small.onnx")
    torch.onnx.export(model, (torch.zeros(1, 1, 28, 28),), onnx_path, dynamo=False, opset_version=13,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.EVAL,
                      input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    x, _ = load("t10k")
    outputs = {}
    hooks = [getattr(model, n).register_forward_hook(lambda m, i, o, n=n: outputs.setdefault(n, []).append(o.detach())) for n in ("conv1", "conv2")]
    with torch.no_grad():
        for i in range(0, len(x), 500):
            model(x[i:i + 500])
    for h in hooks:
        h.remove()
    for layer in ("conv1", "conv2"):
        out = torch.cat(outputs[layer]).numpy()          # [N, C, H, W]
        n, c, h, w = out.shape
        flat = out.reshape(n, c, h * w)
        at = flat.argmax(axis=2)                           # first maximum, row-major
        value = flat.max(axis=2)
        # ONNX node names: the exporter calls conv1's node /conv1/Conv.
        result = os.path.join(work, f"{layer}.json")
        t0 = time.perf_counter()
        r = run(["top-patches", "--model", onnx_path, "--layer", layer, "--data", "fashion-mnist", "--top", str(args.top),
                 "--batch", "128", "--json", result])
        seconds = time.perf_counter() - t0
        ours = json.load(open(result))
        same_order = same_set = 0
        worst = 0.0
        for ch in ours["channels"]:
            k = ch["channel"]
            order = np.lexsort((np.arange(n), -value[:, k]))[:args.top]
            ref = [(int(i), int(at[i, k] // w), int(at[i, k] % w)) for i in order]
            got = [(p["image"], p["y"], p["x"]) for p in ch["patches"]]
            same_order += ref == got
            same_set += set(ref) == set(got)
            worst = max(worst, max(abs(p["value"] - float(value[i, k])) for p, (i, _, _) in zip(ch["patches"], got)))
            if set(ref) != set(got):
                gap = [float(value[i, k]) for i in order]
                print(f"  {layer} channel {k}: PyTorch {ref} values {gap}\n    convviz {got} values {[p['value'] for p in ch['patches']]}")
        print(f"{layer}: {c} channels x top {args.top} over {n} test images: same ordered (image, y, x) lists in {same_order}/{c} channels, "
              f"same sets in {same_set}/{c}; largest |value difference| {worst:.2e} (convviz through ONNX: {seconds:.1f} s with start-up)")


def speed(args):
    work = tempfile.mkdtemp()
    nets = [("small", "conv2"), (os.path.join(ROOT, "Examples/vgg-fmnist.json"), "conv4")]
    runs = []
    for i, (arch, _) in enumerate(nets):
        d = os.path.join(work, f"run{i}")
        train(arch, 100 if i == 0 else 30, d, args.threads)
        runs.append(d)
    best = {}
    for rnd in range(1, args.rounds + 1):
        for (arch, inner), d in zip(nets, runs):
            name = os.path.basename(arch)
            ev = json.loads(run(["evaluate", d, "--batch", "128", "--passes", "1", "--threads", str(args.threads), "--json"]).stdout)
            rates = {"evaluate": ev["images_per_second"]}
            for layer in ("fc", inner):
                r = run(["top-patches", "--model", d, "--layer", layer, "--batch", "128", "--threads", str(args.threads),
                         "--json", os.path.join(work, "out.json")])
                images, seconds = scan_rate(r.stderr)
                assert images == 10000, r.stderr
                rates[f"top-patches {layer}"] = images / seconds
            line = ", ".join(f"{k} {v:.0f}" for k, v in rates.items())
            print(f"round {rnd} {name}: images/s {line}; ratio (fc) {rates['top-patches fc'] / rates['evaluate']:.2f}")
            for k, v in rates.items():
                best[(name, k)] = max(best.get((name, k), 0), v)
    for arch, inner in nets:
        name = os.path.basename(arch)
        ev, fc, part = best[(name, "evaluate")], best[(name, "top-patches fc")], best[(name, f"top-patches {inner}")]
        print(f"{name}: best evaluate {ev:.0f} images/s (forward only), top-patches --layer fc {fc:.0f} (whole scan): ratio {fc / ev:.2f}; "
              f"top-patches --layer {inner} {part:.0f}")


def memory(args):
    # ru_maxrss of a child counts what it held before exec too: this process must stay
    # small (no torch imported), or every child would report the parent's size.
    for limit in (6000, 60000):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        r = subprocess.run([CV, "top-patches", "--model", "small", "--layer", "conv1", "--split", "train", "--limit", str(limit),
                            "--batch", "128", "--json", os.devnull], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(r.stderr)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        # ru_maxrss of children is the largest child so far: run the small scan first.
        print(f"top-patches over {limit} images of the training split: peak RSS {peak / 1024:.1f} MiB" + (" (no larger than before)" if peak == before else ""))
    r = subprocess.run([CV, "evaluate", "--model", "small", "--batch", "128", "--limit", "128"], capture_output=True, text=True)
    print(f"for scale, convviz evaluate (loads both splits whole): peak RSS {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.1f} MiB")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("reference")
    r.add_argument("--top", type=int, default=9)
    r.add_argument("--run", help="a ConvViz SmallConvNet run (default: train one for 100 steps)")
    s = sub.add_parser("speed")
    s.add_argument("--rounds", type=int, default=3)
    s.add_argument("--threads", type=int, default=2)
    sub.add_parser("memory")
    a = p.parse_args()
    {"reference": reference, "speed": speed, "memory": memory}[a.cmd](a)
