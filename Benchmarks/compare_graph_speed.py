"""Imported graphs at batch 1 and 16 (issue 27), by hand (not in CI): ConvViz against
onnxruntime for the forward pass and against PyTorch autograd for the input gradient,
speed and peak memory, on this machine's CPU, 2 threads.

  Benchmarks/.venv/bin/pip install torch torchvision onnx onnxruntime numpy
  swift build -c release --product convviz
  Benchmarks/.venv/bin/python Benchmarks/compare_graph_speed.py \
      [--models resnet18,resnet50,mobilenet_v2] [--batches 1,16] [--passes forward,input-gradient] [--rounds 3] [--runs 5]

Models: torchvision's, random weights (seed 0) with non-trivial BatchNorm statistics,
eval mode, exported with the TorchScript exporter at 224x224, opset 13, no constant
folding (BatchNorm stays a node, as ConvViz imports it), dynamic batch axis.

Every measurement is its own process, so that each side's peak resident memory
(ru_maxrss of that child) is its own: ConvViz is `convviz bench model MODEL.onnx --batch B
--rounds RUNS --pass P --json --warmup W` (model load not timed; untimed passes for W
seconds, then its best pass is taken); the peer is
a Python process that imports only what it needs: onnxruntime (CPU provider,
intra_op_num_threads=2, sequential, all graph optimizations: it folds BatchNorm itself)
for the forward pass, torch (set_num_threads(2), eval mode, requires_grad on the input
only, the gradient of the outputs' sum) for the input gradient, warmed up the same way.
Warm-up is by time because on a virtual machine whose cores were idle the first tens of
milliseconds of work run slow: with one warm-up pass, ConvViz's MobileNetV2 at batch 1 was
timed at 7-9 ms a pass where it runs at 2.5 ms, while onnxruntime, which spends 100 ms
building its session, was not. Rounds are interleaved
(peer, convviz, peer, ...) so both see the same machine load; each side keeps its best
round and its largest peak. The peer's peak includes its interpreter and library (what
a user of it pays); so does ConvViz's. ConvViz runs with OpenBLAS's own kernels for this
CPU unless --openblas-coretype names some (openblas_choice.py); each line says which.
"""
import argparse, json, os, subprocess, sys, tempfile

import openblas_choice

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ORT_CHILD = r"""
import sys, time, json, numpy as np, onnxruntime as ort
path, batch, runs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
o = ort.SessionOptions(); o.intra_op_num_threads = 2; o.inter_op_num_threads = 1
o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL; o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
s = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
x = np.random.default_rng(batch).standard_normal((batch, 3, 224, 224)).astype(np.float32)
name = s.get_inputs()[0].name
start = time.perf_counter()
while True:
    s.run(None, {name: x})
    if time.perf_counter() - start >= warmup: break
best = float("inf")
for _ in range(runs):
    t = time.perf_counter(); s.run(None, {name: x}); best = min(best, time.perf_counter() - t)
print(json.dumps({"seconds_per_batch": best}))
"""

TORCH_CHILD = r"""
import sys, time, json, torch, torchvision
name, batch, runs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[5])
torch.set_num_threads(2)
sys.path.insert(0, sys.argv[4]); from compare_graph_speed import build_model
model = build_model(name)
for p in model.parameters(): p.requires_grad_(False)
x0 = torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(batch))
def once():
    x = x0.clone().requires_grad_(True)
    model(x).sum().backward()
    return x.grad
start = time.perf_counter()
while True:
    once()
    if time.perf_counter() - start >= warmup: break
best = float("inf")
for _ in range(runs):
    t = time.perf_counter(); once(); best = min(best, time.perf_counter() - t)
print(json.dumps({"seconds_per_batch": best}))
"""


def build_model(name):
    """torchvision's `name`, random weights (seed 0) and random BatchNorm statistics, eval."""
    import torch, torchvision
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            torch.nn.init.uniform_(m.weight, 0.5, 1.5)
            torch.nn.init.uniform_(m.bias, -0.2, 0.2)
    return model.eval()


def export(name, path):
    import torch
    model = build_model(name)
    torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), path, dynamo=False, opset_version=13,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.EVAL,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def timed(command, env=None):
    """(seconds_per_batch from the child's JSON, the child's peak RSS in MiB).

    Started with subprocess (vfork/posix_spawn), not os.fork: a forked child's ru_maxrss
    would start at this parent's resident size (torch and onnxruntime imported)."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = status
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(command)}")
    result = json.loads(out.strip().splitlines()[-1])
    return result["seconds_per_batch"], usage.ru_maxrss / 1024, result.get("blas")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--convviz", default=os.path.join(ROOT, ".build", "release", "convviz"))
    parser.add_argument("--models", default="resnet18,resnet50,mobilenet_v2")
    parser.add_argument("--batches", default="1,16")
    parser.add_argument("--passes", default="forward,input-gradient")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best kept)")
    parser.add_argument("--runs", type=int, default=5, help="passes timed in one round (best kept)")
    parser.add_argument("--warmup", type=float, default=0.3,
                        help="seconds of untimed passes before a round's timed ones, on both sides (at least one pass; "
                             "a virtual machine's idle cores run slow for their first tens of milliseconds of work)")
    openblas_choice.add_argument(parser)
    args = parser.parse_args()
    ours_env = openblas_choice.environment(args.openblas_coretype)
    # This process imports neither torch nor onnxruntime: a child's peak RSS (ru_maxrss)
    # starts at its parent's resident size when it is forked, so the parent stays small.
    here = os.path.dirname(os.path.abspath(__file__))
    versions = subprocess.run([sys.executable, "-c", "import torch, onnxruntime; print(f'torch {torch.__version__}, onnxruntime {onnxruntime.__version__}')"],
                              capture_output=True, text=True, check=True).stdout.strip()
    print(f"{versions}, 224x224, 2 threads; "
          f"{args.rounds} interleaved rounds of {args.runs} passes after {args.warmup} s of warm-up, best kept; peak RSS of each side's own process")
    env_python = sys.executable
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models.split(","):
            path = os.path.join(folder, f"{name}.onnx")
            subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {here!r}); from compare_graph_speed import export; export({name!r}, {path!r})"],
                           check=True, stderr=subprocess.DEVNULL)
            for p in args.passes.split(","):
                for batch in (int(b) for b in args.batches.split(",")):
                    if p == "forward":
                        peer_name, peer = "onnxruntime", [env_python, "-c", ORT_CHILD, path, str(batch), str(args.runs), str(args.warmup)]
                    else:
                        peer_name, peer = "torch autograd", [env_python, "-c", TORCH_CHILD, name, str(batch), str(args.runs), os.path.dirname(os.path.abspath(__file__)), str(args.warmup)]
                    ours = [args.convviz, "bench", "model", path, "--batch", str(batch), "--rounds", str(args.runs), "--pass", p, "--json", "--threads", "2", "--warmup", str(args.warmup)]
                    best = {"peer": (float("inf"), 0.0), "convviz": (float("inf"), 0.0)}
                    for _ in range(args.rounds):
                        for side, command, env in (("peer", peer, None), ("convviz", ours, ours_env)):
                            seconds, mib, blas = timed(command, env)
                            best[side] = (min(best[side][0], seconds), max(best[side][1], mib))
                    (ps, pm), (cs, cm) = best["peer"], best["convviz"]
                    print(f"{name:13} {p:15} batch {batch:3}: {peer_name} {batch / ps:7.1f} img/s {pm:6.0f} MiB | "
                          f"convviz ({blas}) {batch / cs:7.1f} img/s {cm:6.0f} MiB | speed {ps / cs:.2f}x, memory {cm / pm:.2f}x", flush=True)


if __name__ == "__main__":
    main()
