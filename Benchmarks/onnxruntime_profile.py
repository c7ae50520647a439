"""onnxruntime's milliseconds per node, to set beside `convviz bench model MODEL --profile`.

Runs the model `--passes` times with onnxruntime's own profiler on, `--threads` intra-op
threads, and prints each node's lower-quartile kernel time (the profiler records every
pass; the lower quartile leaves out the passes another tenant slowed down). onnxruntime
fuses BatchNorm, ReLU and residual additions into its convolutions, so one of its rows
can stand for two or three of ConvViz's; the node names say which.

    Benchmarks/.venv/bin/python Benchmarks/onnxruntime_profile.py Outputs/resnet18-random.onnx --batch 1
"""
import argparse, collections, json, os, tempfile

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--passes", type=int, default=40)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(tempfile.mkdtemp(), "ort")
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((args.batch, 3, args.size, args.size), dtype=np.float32)
    name = session.get_inputs()[0].name
    for _ in range(args.passes):
        session.run(None, {name: x})
    path = session.end_profiling()
    with open(path) as f:
        events = json.load(f)
    os.remove(path)

    times, kinds = collections.defaultdict(list), {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            node = e["name"][: -len("_kernel_time")]
            times[node].append(e["dur"] / 1000)
            kinds[node] = e["args"].get("op_name", "?")
    total = 0.0
    print(f"onnxruntime {ort.__version__}, {args.threads} threads, batch {args.batch}, lower quartile of {args.passes} passes")
    for node, values in times.items():
        ms = sorted(values)[len(values) // 4]
        total += ms
        print(f"{node[:48]:48s} {kinds[node]:18s} {ms:7.3f} ms")
    print(f"sum of nodes: {total:.2f} ms")


if __name__ == "__main__":
    main()
