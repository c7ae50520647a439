"""ResNet-18 inference from one ONNX file, onnxruntime against `convviz bench model`,
on this machine's CPU, by hand (not in CI):

  python3 -m venv Benchmarks/.venv
  Benchmarks/.venv/bin/pip install torch torchvision onnx onnxruntime safetensors numpy
  swift build -c release
  Benchmarks/.venv/bin/python Benchmarks/compare_onnx_inference.py [--batches 1,16] [--rounds 3] [--no-convviz]

The model is torchvision's resnet18 with random weights (seed 0), eval mode, exported by
the TorchScript exporter (dynamo=False) at 224x224, opset 13, do_constant_folding=False
(BatchNorm stays a node, as ConvViz imports it), with a dynamic batch axis.

onnxruntime: CPU execution provider, intra_op_num_threads=2, inter_op_num_threads=1,
sequential execution, all graph optimizations (it fuses BatchNorm into Conv itself).
Its session is built and warmed up once per batch size, outside the timing.

Rounds are interleaved (onnxruntime round, convviz round, ...) so both see the same
machine load; a round times --runs batches, and each side's best round is kept.
A convviz round is one `convviz bench model MODEL.onnx --batch B --rounds RUNS --json`
process, whose own "seconds_per_batch" is taken (its process start and model load are
not timed). Prints images/s of each and the ratio convviz/onnxruntime per batch size.
"""
import argparse, json, os, subprocess, tempfile, time

import numpy as np
import onnxruntime as ort
import torch
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def export_resnet18(path):
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), path, dynamo=False, opset_version=13,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.EVAL,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def ort_session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def ort_round(session, x, runs):
    """Mean seconds per batch over `runs` consecutive batches."""
    start = time.perf_counter()
    for _ in range(runs):
        session.run(["output"], {"input": x})
    return (time.perf_counter() - start) / runs


def convviz_round(convviz, path, batch, runs):
    result = subprocess.run([convviz, "bench", "model", path, "--batch", str(batch), "--rounds", str(runs), "--json"],
                            capture_output=True, text=True, check=True)
    return float(json.loads(result.stdout)["seconds_per_batch"])


def time_batch(args, session, path, batch):
    """Best seconds per batch of each side over the interleaved rounds."""
    x = np.random.default_rng(batch).standard_normal((batch, 3, 224, 224)).astype(np.float32)
    session.run(["output"], {"input": x})  # warm-up: allocations and kernel selection for this shape
    best = {"onnxruntime": float("inf"), "convviz": float("inf")}
    for _ in range(args.rounds):
        best["onnxruntime"] = min(best["onnxruntime"], ort_round(session, x, args.runs))
        if not args.no_convviz:
            best["convviz"] = min(best["convviz"], convviz_round(args.convviz, path, batch, args.runs))
    return {k: v for k, v in best.items() if v != float("inf")}


def report(batch, best):
    ort_rate = batch / best["onnxruntime"]
    line = f"batch {batch:3}: onnxruntime {ort_rate:8.1f} images/s ({best['onnxruntime'] * 1e3:8.1f} ms/batch)"
    if "convviz" in best:
        rate = batch / best["convviz"]
        line += f"   convviz {rate:8.1f} images/s ({best['convviz'] * 1e3:8.1f} ms/batch)   convviz/onnxruntime {rate / ort_rate:.2f}"
    print(line, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--convviz", default=os.path.join(ROOT, ".build", "release", "convviz"))
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per batch size (best kept)")
    parser.add_argument("--runs", type=int, default=3, help="batches timed in one round")
    parser.add_argument("--batches", default="1,16", help="comma-separated batch sizes")
    parser.add_argument("--no-convviz", action="store_true", help="onnxruntime only (dry run)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, onnxruntime {ort.__version__}, resnet18 224x224, 2 threads")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "resnet18.onnx")
        export_resnet18(path)
        session = ort_session(path)
        for batch in (int(b) for b in args.batches.split(",")):
            report(batch, time_batch(args, session, path, batch))


if __name__ == "__main__":
    main()
