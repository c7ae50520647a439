"""Attribution speed and memory: ConvViz against pytorch-grad-cam and Captum on the same
networks, on this machine's CPU, by hand (not in CI):

  swift build -c release --product convviz
  Benchmarks/.venv/bin/python Benchmarks/compare_attribution.py [--models resnet18,resnet50] [--rounds 3] [--runs 3]

Networks: torchvision's resnet18 and resnet50 with random weights (seed 0) and BatchNorm
given non-trivial running statistics, eval mode, exported to ONNX (TorchScript exporter,
opset 13, do_constant_folding=False) at 224x224; one random input, batch 1, the target
the predicted class.

Methods: Grad-CAM at the last block's output (grad-cam's `GradCAM(model, [model.layer4[-1]])`,
ConvViz's `--layer` the same block's last ReLU) and integrated gradients with 50 steps
(Captum's `IntegratedGradients(model).attribute(x, baselines=0, target, n_steps=50)`,
its defaults: Gauss-Legendre, all 50 steps in one batch; ConvViz `--steps 50` in its
default slices of 16).

Threads: PyTorch `torch.set_num_threads(2)` (and interop 1); ConvViz uses the 2 cores.
Kernels: ConvViz runs with OpenBLAS's own choice for this CPU unless
--openblas-coretype names one (see openblas_choice.py); the first line says which.
Each side runs in a process of its own; a round is one process per side, interleaved
(PyTorch, ConvViz, PyTorch, ...), so both see the same load. In a process, one warm-up
map, then --runs maps timed one by one: the process's best is its time. Model loading
and process start are not timed. Peak memory is each process's peak resident set as
/usr/bin/time reports it (%M: measured on a process started by `time`, not forked from
this script, whose own memory a forked child's high-water mark would include), with its
runtime: Python with torch, or convviz. Prints, per model and
method, each side's best time over the rounds, the ratio PyTorch/ConvViz (above 1:
ConvViz faster) and the ratio of peak memory ConvViz/PyTorch.
"""
import argparse, json, os, subprocess, sys, tempfile, time

import openblas_choice

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYER = {"resnet18": "/layer4/layer4.1/relu_1/Relu", "resnet50": "/layer4/layer4.2/relu_2/Relu"}


def make_model(name):
    import torch, torchvision
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.0)
    return model.eval()


def export(name, directory):
    import numpy as np, torch
    path = os.path.join(directory, f"{name}.onnx")
    model = make_model(name)
    torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), path, dynamo=False, opset_version=13,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.EVAL,
                      input_names=["input"], output_names=["output"])
    torch.manual_seed(1)
    np.save(os.path.join(directory, "input.npy"), torch.randn(1, 3, 224, 224).numpy())
    return path


def torch_side(name, method, directory, runs):
    """Runs in a child process: prints {"seconds": [...]}."""
    import numpy as np, torch
    torch.set_num_threads(2)
    torch.set_num_interop_threads(1)
    model = make_model(name)
    x = torch.from_numpy(np.load(os.path.join(directory, "input.npy")))
    with torch.no_grad():
        target = int(model(x).argmax())
    if method == "gradcam":
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
        cam = GradCAM(model=model, target_layers=[model.layer4[-1]])
        run = lambda: cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])
    else:
        from captum.attr import IntegratedGradients
        ig = IntegratedGradients(model)
        run = lambda: ig.attribute(x, baselines=torch.zeros_like(x), target=target, n_steps=50)
    run()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": seconds}))


def measured(args, env=None):
    """Runs `args` under /usr/bin/time: (stdout, peak resident MB)."""
    with tempfile.NamedTemporaryFile(suffix=".txt") as f:
        out = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f.name] + args, capture_output=True, text=True, check=True, env=env).stdout
        return out, int(open(f.name).read().split()[-1]) / 1024


def convviz_side(convviz, name, method, directory, runs, env):
    args = [convviz, "attribute", "--model", os.path.join(directory, f"{name}.onnx"), "--input", os.path.join(directory, "input.npy"),
            "--method", "gradcam" if method == "gradcam" else "integrated-gradients", "--steps", "50", "--layer", LAYER[name],
            "--repeat", str(runs), "-o", os.path.join(directory, f"{name}-{method}.png")]
    out, peak = measured(args, env)
    return dict(json.loads([line for line in out.splitlines() if line.startswith("{")][-1]), peak_rss_mb=peak)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="resnet18,resnet50")
    parser.add_argument("--methods", default="gradcam,ig")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    openblas_choice.add_argument(parser)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--directory", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.child:
        return torch_side(a.child[0], a.child[1], a.directory, int(a.child[2]))
    convviz = os.path.join(ROOT, ".build", "release", "convviz")
    version = subprocess.run([convviz, "--version"], capture_output=True, text=True, env=openblas_choice.environment(a.openblas_coretype)).stdout.strip()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (shared with other work: compare ratios, not absolute times); {version}")
    with tempfile.TemporaryDirectory() as directory:
        for name in a.models.split(","):
            export(name, directory)
            for method in a.methods.split(","):
                best = {"pytorch": [], "convviz": []}
                memory = {"pytorch": 0.0, "convviz": 0.0}
                for _ in range(a.rounds):
                    out, peak = measured([sys.executable, __file__, "--child", name, method, str(a.runs), "--directory", directory])
                    t = dict(json.loads(out.strip().splitlines()[-1]), peak_rss_mb=peak)
                    best["pytorch"].append(min(t["seconds"])); memory["pytorch"] = max(memory["pytorch"], t["peak_rss_mb"])
                    c = convviz_side(convviz, name, method, directory, a.runs, openblas_choice.environment(a.openblas_coretype))
                    best["convviz"].append(min(c["seconds"])); memory["convviz"] = max(memory["convviz"], c["peak_rss_mb"])
                p, c = min(best["pytorch"]), min(best["convviz"])
                peer = "grad-cam" if method == "gradcam" else "Captum IG(50)"
                print(f"{name} {method}: {peer} {p * 1000:.0f} ms, ConvViz {c * 1000:.0f} ms, speed ratio {p / c:.2f}x; "
                      f"peak memory {memory['pytorch']:.0f} MB vs {memory['convviz']:.0f} MB (ConvViz/peer {memory['convviz'] / memory['pytorch']:.2f}); "
                      f"rounds pytorch {[round(x * 1000) for x in best['pytorch']]} convviz {[round(x * 1000) for x in best['convviz']]} ms")


if __name__ == "__main__":
    main()
