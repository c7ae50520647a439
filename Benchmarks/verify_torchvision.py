"""Checks ConvViz's ONNX import against PyTorch and onnxruntime on eight torchvision
architectures (random weights: no model hub is reachable), by hand, not in CI:

  python3 -m venv Benchmarks/.venv
  Benchmarks/.venv/bin/pip install torch torchvision onnx onnxruntime safetensors numpy
  swift build -c release
  Benchmarks/.venv/bin/python Benchmarks/verify_torchvision.py [--models resnet18 vgg11] [--no-convviz]

For each model (seeded, eval mode, BatchNorm given random statistics so that it is not
the identity), exported with the TorchScript exporter (dynamo=False) at 1x3x224x224,
opset 13, do_constant_folding=False, BatchNorm kept:

* parameters: `convviz shapes MODEL.onnx --format json`'s total_params against
  sum(p.numel() for p in model.parameters());
* values: `convviz activations --layer VALUE --save-maps maps.npy` for two 4-D values
  (about a third and two thirds through the node list) and the logits, against
  onnxruntime's, with |got - ref| <= 1e-4 max|ref| + 1e-4 |ref| elementwise;
* receptive field of the last node with a spatial 4-D output (the map before global
  pooling): ConvViz's theory against the extent of the input gradient of that map's
  centre unit (summed over channels) in PyTorch. Measured on random normal inputs of
  224, then 449, 897 pixels while the gradient reaches the image border. Only reported:
  the measured extent can be clipped by the border (RF larger than the largest input) or
  smaller than theory (ReLU zeros, max-pool routing, zero padding). Seen with torch
  2.15: densenet121's field exceeds 897 (clipped even at 1799), and efficientnet_b0's
  squeeze-excitation gates (global average pools) make every unit depend on the whole
  image, so its gradient always fills the input.

`--no-convviz` runs only the PyTorch/onnxruntime half (export, references, RF measurement).
Prints a table and writes OUT/summary.json; exits 1 when a parameter count differs, a
value fails the rule or a convviz command fails (the other models are still checked).
"""
import argparse, json, os, subprocess, sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torchvision
from onnx import helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ["alexnet", "vgg11", "resnet18", "mobilenet_v2", "googlenet", "densenet121", "squeezenet1_1",
          "efficientnet_b0"]
SIZE = 224
RF_SIZES = (224, 449, 897)
SEED = 0
TIMEOUT = 900


def build(name):
    torch.manual_seed(SEED)
    extra = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    model = getattr(torchvision.models, name)(weights=None, **extra)
    randomize_batchnorm(model)
    return model.eval()


def randomize_batchnorm(model):
    """Freshly initialised BatchNorm is the identity in eval mode: an importer that
    ignored it would pass. Random statistics, as a trained network has, make it count."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)


def export(model, path):
    torch.onnx.export(model, (torch.zeros(1, 3, SIZE, SIZE),), path, dynamo=False, opset_version=13,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.EVAL,
                      input_names=["input"], output_names=["output"])
    return onnx.load(path)


def value_shapes(graph):
    """Static shapes of every value, from ONNX shape inference."""
    inferred = onnx.shape_inference.infer_shapes(graph).graph
    return {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in list(inferred.value_info) + list(inferred.output)}


def computing_nodes(graph):
    """The node list without Constant and Identity nodes (the exporter adds Identity
    nodes for initializers with equal contents), which carry no activations."""
    return [n for n in graph.graph.node if n.op_type not in ("Constant", "Identity")]


def pick_intermediates(nodes, shapes):
    """The 4-D outputs nearest to a third and two thirds of the way through the nodes."""
    four_d = [(i, n.output[0]) for i, n in enumerate(nodes) if len(shapes.get(n.output[0], [])) == 4]
    return [min(four_d, key=lambda c: abs(c[0] - len(nodes) * f))[1] for f in (1 / 3, 2 / 3)]


def last_spatial_node(nodes, shapes):
    """The last node whose output is a 4-D map larger than 1x1."""
    return next(n for n in reversed(nodes) if len(s := shapes.get(n.output[0], [])) == 4 and s[2] * s[3] > 1)


def onnxruntime_values(graph, names, x):
    """onnxruntime's values of the given tensors, made graph outputs of a copy of the model."""
    probe = onnx.ModelProto()
    probe.CopyFrom(graph)
    present = {o.name for o in probe.graph.output}
    probe.graph.output.extend(helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None)
                              for n in names if n not in present)
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip(names, session.run(names, {"input": x})))


def golden(got, ref):
    """The golden rule, and the worst error relative to max|ref|."""
    if got.shape != ref.shape:
        if got.size != ref.size:
            return False, f"shape {list(got.shape)} != {list(ref.shape)}"
        got = got.reshape(ref.shape)
    scale = float(np.abs(ref).max())
    diff = np.abs(got.astype(np.float64) - ref)
    ok = bool(np.all(diff <= 1e-4 * scale + 1e-4 * np.abs(ref)))
    return ok, float(diff.max() / scale) if scale else float(diff.max())


def last_spatial_module(model):
    """Name of the module whose output is the last 4-D map larger than 1x1 in forward
    order, i.e. the map before global pooling. Adaptive pools are skipped: their windows
    depend on the input size, so their field at a larger measuring input is not the one
    at 224 (alexnet's and vgg's are 1x1 windows at 224)."""
    fired = []
    hooks = [m.register_forward_hook(lambda m, i, o, name=name: fired.append((name, o)))
             for name, m in model.named_modules()
             if name and not isinstance(m, (torch.nn.AdaptiveAvgPool2d, torch.nn.AdaptiveMaxPool2d))]
    with torch.no_grad():
        model(torch.zeros(1, 3, SIZE, SIZE))
    for h in hooks:
        h.remove()
    return next(name for name, o in reversed(fired)
                if isinstance(o, torch.Tensor) and o.dim() == 4 and o.shape[2] * o.shape[3] > 1)


def gradient_extent(model, module, size):
    """Rows and columns of a random size x size input that the centre unit of the
    module's output (summed over channels) has a non-zero gradient for."""
    captured = {}
    hook = module.register_forward_hook(lambda m, i, o: captured.__setitem__("out", o))
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(SEED), requires_grad=True)
    model(x)
    hook.remove()
    out = captured["out"]
    unit = [out.shape[2] // 2, out.shape[3] // 2]
    out[0, :, unit[0], unit[1]].sum().backward()
    grad = x.grad[0].abs().sum(0)
    rows, cols = grad.sum(1).nonzero().flatten(), grad.sum(0).nonzero().flatten()
    first, last = [int(rows.min()), int(cols.min())], [int(rows.max()), int(cols.max())]
    return {"input": size, "unit": unit, "first": first, "last": last,
            "extent": [last[0] - first[0] + 1, last[1] - first[1] + 1],
            "center": [(first[0] + last[0]) / 2, (first[1] + last[1]) / 2],
            "clipped": min(first) == 0 or max(last) == size - 1}


def measure_field(model, max_size):
    """The gradient extent at the smallest input in RF_SIZES that the gradient does
    not reach the border of (or at the largest allowed, marked clipped)."""
    name = last_spatial_module(model)
    module = model.get_submodule(name)
    for p in model.parameters():
        p.requires_grad_(False)
    sizes = [s for s in RF_SIZES if s <= max_size] or [RF_SIZES[0]]
    for size in sizes:
        measured = gradient_extent(model, module, size)
        if not measured["clipped"]:
            break
    return {"module": name, **measured}


def run_convviz(args, *command):
    result = subprocess.run([args.convviz, *command], capture_output=True, text=True, timeout=TIMEOUT)
    if result.returncode != 0:
        raise RuntimeError(f"convviz {command[0]} exited {result.returncode}: {result.stderr.strip()[-500:]}")
    return result.stdout


def convviz_layer(shapes_json, node):
    """ConvViz's layer for an ONNX node, named after the node or its output value."""
    return next((l for l in shapes_json["layers"] if l.get("name") in (node.name, node.output[0])), None)


def theory_field(layer, unit):
    """ConvViz's field size, and the centre of the measured unit: center + unit * jump."""
    if layer is None or layer.get("receptive_field") is None:
        return None
    theory = {"size": layer["receptive_field"]}
    if layer.get("center") is not None and layer.get("jump") is not None:
        theory["center"] = [c + u * j for c, u, j in zip(layer["center"], unit, layer["jump"])]
    return theory


def compare_activations(args, row, model_path, x_path, folder, references):
    for i, (name, ref) in enumerate(references.items()):
        maps = os.path.join(folder, f"maps{i}.npy")
        try:
            run_convviz(args, "activations", "--model", model_path, "--input", x_path, "--layer", name,
                        "--save-maps", maps, "-o", maps.replace(".npy", ".png"))
            ok, error = golden(np.load(maps), ref)
        except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as e:
            ok, error = False, str(e)
        row["values"][name].update(ok=ok, rel_error=error)
        if not ok:
            row["failures"].append(f"{name}: {error}")


def compare_shapes(args, row, model_path, node):
    try:
        report = json.loads(run_convviz(args, "shapes", model_path, "--format", "json"))
    except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as e:
        row["failures"].append(f"shapes: {e}")
        return
    row["convviz_params"] = report.get("total_params")
    if row["convviz_params"] != row["torch_params"]:
        row["failures"].append(f"params {row['convviz_params']} != torch {row['torch_params']}")
    row["rf_theory"] = theory_field(convviz_layer(report, node), row["rf_measured"]["unit"])


def verify(name, args, x, x_path):
    """One model: export, onnxruntime references, RF measurement, then the convviz checks."""
    folder = os.path.join(args.out, name)
    os.makedirs(folder, exist_ok=True)
    model_path = os.path.join(folder, f"{name}.onnx")
    model = build(name)
    graph = export(model, model_path)
    shapes = value_shapes(graph)
    nodes = computing_nodes(graph)
    spatial = last_spatial_node(nodes, shapes)
    names = pick_intermediates(nodes, shapes) + ["output"]
    references = onnxruntime_values(graph, names, x)
    with torch.no_grad():
        torch_logits = model(torch.from_numpy(x)).numpy()
    row = {"model": name, "torch_params": sum(p.numel() for p in model.parameters()), "convviz_params": None,
           "ort_vs_torch": golden(references["output"], torch_logits)[1],
           "rf_node": spatial.name, "rf_value": spatial.output[0], "rf_theory": None,
           "rf_measured": measure_field(model, args.rf_max_size),
           "values": {k: {"shape": list(v.shape)} for k, v in references.items()}, "failures": []}
    if not args.no_convviz:
        compare_shapes(args, row, model_path, spatial)
        compare_activations(args, row, model_path, x_path, folder, references)
    return row


def fmt_error(entry):
    """Relative error, FAIL for a convviz error or shape mismatch, - when not compared."""
    if "rel_error" not in entry:
        return "-"
    return f"{entry['rel_error']:.1e}" if isinstance(entry["rel_error"], float) else "FAIL"


def print_table(rows):
    print(f"{'model':16} {'params torch':>13} {'convviz':>11} {'1/3':>8} {'2/3':>8} {'logits':>8}"
          f" {'ort/torch':>9}  {'RF theory':>11} {'RF measured':>19}  status")
    for r in rows:
        values = list(r["values"].values())
        theory = "x".join(map(str, r["rf_theory"]["size"])) if r["rf_theory"] else "-"
        m = r["rf_measured"]
        measured = f"{m['extent'][0]}x{m['extent'][1]}@{m['input']}" + (" clip" if m["clipped"] else "")
        status = "ok" if not r["failures"] else "FAIL: " + "; ".join(r["failures"])
        print(f"{r['model']:16} {r['torch_params']:>13,} {r['convviz_params'] or '-':>11} "
              + " ".join(f"{fmt_error(v):>8}" for v in values)
              + f" {r['ort_vs_torch']:>9.1e}  {theory:>11} {measured:>19}  {status}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--convviz", default=os.path.join(ROOT, ".build", "release", "convviz"))
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--out", default="/tmp/convviz-verify")
    parser.add_argument("--no-convviz", action="store_true", help="only the PyTorch/onnxruntime half")
    parser.add_argument("--rf-max-size", type=int, default=RF_SIZES[-1],
                        help="largest input side for the RF measurement (memory grows with its square)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    x = np.random.default_rng(SEED).standard_normal((1, 3, SIZE, SIZE)).astype(np.float32)
    x_path = os.path.join(args.out, "x.npy")
    np.save(x_path, x)
    rows = []
    for name in args.models:
        print(f"{name}...", file=sys.stderr, flush=True)
        rows.append(verify(name, args, x, x_path))
    print_table(rows)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump({"torch": torch.__version__, "onnxruntime": ort.__version__, "convviz": not args.no_convviz,
                   "models": rows}, f, indent=1)
    sys.exit(1 if any(r["failures"] for r in rows) else 0)


if __name__ == "__main__":
    main()
