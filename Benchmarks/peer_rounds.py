"""The rounds of compare_training.sh and compare_inference.sh: each script appends one JSON
line per (network, round) to RUN/results.jsonl with both frameworks' images/s; this prints
every round with its ratio and returns each network's best rounds, which the scripts
then report with their own measures (training or inference GFLOP/s, memory, accuracy)."""
import json


def network_names(vgg):
    return ["SmallConvNet (Fashion-MNIST)", f"VGG-style {vgg} (CIFAR format)"]


def load_rows(run):
    return [json.loads(line) for line in open(f"{run}/results.jsonl")]


def print_rounds(rows, net, name):
    """Prints network `net`'s rounds; returns its rows and the best images/s of PyTorch and convviz."""
    rs = [r for r in rows if r["net"] == net]
    for r in rs:
        p, c = r["pytorch"]["images_per_second"], r["convviz"]["images_per_second"]
        print(f"{name} round {r['round']}: PyTorch {p:.0f} images/s, convviz {c:.0f} images/s, ratio {c / p:.2f}")
    best_pytorch = max(r["pytorch"]["images_per_second"] for r in rs)
    best_convviz = max(r["convviz"]["images_per_second"] for r in rs)
    return rs, best_pytorch, best_convviz
