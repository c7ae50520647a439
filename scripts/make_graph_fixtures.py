"""Writes the ONNX graph fixtures that ConvViz's importer tests read, into
Tests/ConvVizCoreTests/Fixtures/graphs/: six small networks whose shapes
(residual add, depthwise, inception concat, squeeze-excitation multiply, misaligned
branches, odd convolutions and pools) are the ones a chain-only importer gets wrong,
each with onnxruntime's value of every node output, so a test can find the first node
where ConvViz disagrees instead of only seeing that the logits differ. Plus hostile
files (dangling external data, an unsupported op, PyTorch pickles) that must fail
with a clear error.

Run by hand (not in CI), from the repository root:

  python3 -m venv Benchmarks/.venv
  Benchmarks/.venv/bin/pip install torch torchvision onnx onnxruntime safetensors numpy
  Benchmarks/.venv/bin/python scripts/make_graph_fixtures.py

Exporter: the TorchScript one (`torch.onnx.export(..., dynamo=False)`), which names
nodes after the module path ("/conv1/Conv", "/relu_1/Relu") and keeps BatchNormalization
with do_constant_folding=False and TrainingMode.EVAL. Made with torch 2.15.0,
onnx 1.23.2, onnxruntime 1.32.0. Each model is seeded, so a rerun writes the same
bytes, except legacy-pickle.pth (see write_pickles).
"""
import json, os

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
from onnx import helper, numpy_helper, TensorProto
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file as save_torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "ConvVizCoreTests", "Fixtures", "graphs")
OPSET = 13
TOLERANCE = 1e-4


class Residual(nn.Module):
    """ResNet basic block with a strided 1x1 projection shortcut, then the head
    (global average pool, flatten, linear): the add joins two paths of different depth.
    `relu` is called twice, as in torchvision, so the exporter names the second "relu_1"."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.downsample = nn.Sequential(nn.Conv2d(3, 8, 1, stride=2, bias=False), nn.BatchNorm2d(8))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        y = self.relu(y + self.downsample(x))
        return self.fc(self.flatten(self.pool(y)))


def conv_bn(cin, cout, k, stride=1, groups=1, relu6=True):
    """Conv (padding k//2, no bias) + BN (+ ReLU6), the MobileNetV2 unit."""
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, nn.ReLU6()) if relu6 else nn.Sequential(*layers)


class Depthwise(nn.Module):
    """MobileNetV2 inverted residual (expand, depthwise, linear project, add), then a
    stride-2 depthwise block without residual: group == channels convolutions."""

    def __init__(self):
        super().__init__()
        self.expand = conv_bn(8, 16, 1)
        self.depthwise = conv_bn(16, 16, 3, groups=16)
        self.project = conv_bn(16, 8, 1, relu6=False)
        self.down_depthwise = conv_bn(8, 8, 3, stride=2, groups=8)
        self.down_project = conv_bn(8, 12, 1, relu6=False)

    def forward(self, x):
        x = x + self.project(self.depthwise(self.expand(x)))
        return self.down_project(self.down_depthwise(x))


class Inception(nn.Module):
    """GoogLeNet-style block: four branches concatenated on channels, then a ceil-mode
    max pool (12 -> 6; floor mode would give 5)."""

    def __init__(self):
        super().__init__()
        self.branch1 = nn.Sequential(nn.Conv2d(8, 4, 1), nn.ReLU())
        self.branch2 = nn.Sequential(nn.Conv2d(8, 4, 1), nn.ReLU(), nn.Conv2d(4, 6, 3, padding=1), nn.ReLU())
        self.branch3 = nn.Sequential(nn.Conv2d(8, 2, 1), nn.ReLU(), nn.Conv2d(2, 4, 5, padding=2), nn.ReLU())
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(8, 4, 1), nn.ReLU())
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)

    def forward(self, x):
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return self.pool(torch.cat(branches, 1))


class SqueezeExcitation(nn.Module):
    """Conv-BN-SiLU, a squeeze-excitation gate multiplied into the feature map (a
    broadcast [N,C,1,1] * [N,C,H,W]), then Hardswish, LeakyReLU and an eval-mode Dropout."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.act = nn.SiLU()
        self.squeeze = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(8, 2, 1)
        self.reduce_act = nn.SiLU()
        self.expand = nn.Conv2d(2, 8, 1)
        self.gate = nn.Sigmoid()
        self.hardswish = nn.Hardswish()
        self.leaky = nn.LeakyReLU(0.1)
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        x = self.act(self.bn(self.conv(x)))
        x = x * self.gate(self.expand(self.reduce_act(self.reduce(self.squeeze(x)))))
        return self.dropout(self.leaky(self.hardswish(x)))


class Misaligned(nn.Module):
    """Two branches with equal output shapes [N,4,6,4] from a 16x12 input whose
    receptive fields differ in size, jump and centre: a correct per-branch field
    computation must not assume an add's inputs are aligned."""

    def __init__(self):
        super().__init__()
        self.a1 = nn.Conv2d(3, 4, 3, stride=1, padding=0)
        self.a2 = nn.Conv2d(4, 4, 3, stride=2, padding=0)
        self.b1 = nn.Conv2d(3, 4, 1, stride=3, padding=0)
        self.b2 = nn.Conv2d(4, 4, (3, 1), stride=1, padding=(1, 0))

    def forward(self, x):
        return self.a2(self.a1(x)) + self.b2(self.b1(x))


# Receptive fields of Misaligned's branch outputs, derived by hand per axis with
#   r_l = r_{l-1} + (K-1) D j_{l-1},  j_l = j_{l-1} S,  c_l = c_{l-1} + (D(K-1)/2 - P) j_{l-1}
# from r_0 = 1, j_0 = 1, c_0 = 0; c is the centre of the top-left output unit's field
# in input pixel coordinates (pixel 0's centre is 0). D = 1 throughout. Input 16 x 12.
#
# Branch A, both axes alike (K3 S1 P0, then K3 S2 P0):
#   a1: r = 1 + 2*1 = 3,  j = 1*1 = 1,  c = 0 + (1 - 0)*1 = 1;  size H 16-2 = 14, W 12-2 = 10
#   a2: r = 3 + 2*1 = 5,  j = 1*2 = 2,  c = 1 + (1 - 0)*1 = 2;  size H (14-3)//2+1 = 6, W (10-3)//2+1 = 4
# Branch B (K1 S3 P0, then K(3,1) S1 P(1,0)):
#   b1 (both axes): r = 1 + 0 = 1,  j = 1*3 = 3,  c = 0 + (0 - 0)*1 = 0;  size H (16-1)//3+1 = 6, W (12-1)//3+1 = 4
#   b2 rows (K3 P1): r = 1 + 2*3 = 7,  j = 3,  c = 0 + (1 - 1)*3 = 0;  size 6 + 2 - 3 + 1 = 6
#   b2 cols (K1 P0): r = 1 + 0*3 = 1,  j = 3,  c = 0 + (0 - 0)*3 = 0;  size 4
# So both outputs are 6 x 4, but A's unit (0,0) sees rows/cols 0..4 around (2, 2) with
# steps of 2, and B's sees rows -3..3 around 0 and only column 0, with steps of 3.
MISALIGNED_FIELDS = {
    "branch_a": {"module": "a2", "size": [5, 5], "jump": [2, 2], "center": [2.0, 2.0]},
    "branch_b": {"module": "b2", "size": [7, 1], "jump": [3, 3], "center": [0.0, 0.0]},
}


def field_by_formula(model, modules):
    """The same recurrence, run over the convolutions, to catch a slip in the hand derivation."""
    field = []
    for axis in (0, 1):
        r, j, c = 1, 1, 0.0
        for name in modules:
            conv = getattr(model, name)
            k, s, p, d = conv.kernel_size[axis], conv.stride[axis], conv.padding[axis], conv.dilation[axis]
            r, c, j = r + (k - 1) * d * j, c + (d * (k - 1) / 2 - p) * j, j * s
        field.append((r, j, c))
    return field


def check_misaligned_fields(model):
    for branch, modules in (("branch_a", ["a1", "a2"]), ("branch_b", ["b1", "b2"])):
        expected = MISALIGNED_FIELDS[branch]
        got = field_by_formula(model, modules)
        assert [f[0] for f in got] == expected["size"], (branch, got)
        assert [f[1] for f in got] == expected["jump"], (branch, got)
        assert [f[2] for f in got] == expected["center"], (branch, got)


class Assorted(nn.Module):
    """One convolution of each awkward kind in a chain: grouped (2 groups, not
    depthwise), dilated, asymmetric kernel/stride/padding, then a ceil-mode average
    pool (11 wide -> 6) whose last window overhangs the edge and averages only the one
    column inside it.
    GroupNorm is left out: opset 13 has no GroupNormalization, and the TorchScript
    exporter spells it as Reshape, InstanceNormalization, Shape, Reshape, Unsqueeze,
    Mul, Add and six Constants."""

    def __init__(self):
        super().__init__()
        self.grouped = nn.Conv2d(4, 8, 3, padding=1, groups=2)
        self.relu6 = nn.ReLU6()
        self.dilated = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
        self.relu = nn.ReLU()
        self.asymmetric = nn.Conv2d(8, 6, (3, 1), stride=(2, 1), padding=(1, 0))
        self.pool = nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(6 * 3 * 6, 5)

    def forward(self, x):
        x = self.relu(self.dilated(self.relu6(self.grouped(x))))
        return self.fc(self.flatten(self.pool(self.relu6(self.asymmetric(x)))))


# name -> (module class, input shape NCHW, seed)
FIXTURES = {
    "residual": (Residual, [2, 3, 16, 16], 1),
    "depthwise": (Depthwise, [2, 8, 12, 12], 2),
    "inception": (Inception, [2, 8, 12, 12], 3),
    "squeeze_excitation": (SqueezeExcitation, [2, 3, 12, 12], 4),
    "misaligned": (Misaligned, [2, 3, 16, 12], 5),
    "assorted": (Assorted, [2, 4, 11, 11], 6),
}


def randomize_batchnorm(model):
    """Fresh BatchNorm is the identity in eval mode (mean 0, var 1, weight 1, bias 0), so
    an importer that dropped or misread it would pass; random statistics make it count.
    They also keep the exporter from merging equal initializers into Identity nodes."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)


def build(name):
    cls, shape, seed = FIXTURES[name]
    torch.manual_seed(seed)
    model = cls()
    randomize_batchnorm(model)
    return model.eval(), torch.randn(shape)


def export(model, x, path, opset=OPSET):
    torch.onnx.export(model, (x,), path, dynamo=False, opset_version=opset, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.EVAL, input_names=["input"], output_names=["output"])
    return onnx.load(path)


def run_all(model, x):
    """onnxruntime's value of every node output, from a copy of the model whose graph
    outputs are all of them. Types come from shape inference (FLOAT if unknown)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type for v in inferred.graph.value_info}
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    present = {o.name for o in probe.graph.output}
    names = [o for node in probe.graph.node for o in node.output if o]
    for name in names:
        if name not in present:
            probe.graph.output.append(helper.make_tensor_value_info(name, types.get(name, TensorProto.FLOAT), None))
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip(names, session.run(names, {"input": x.numpy()})))


def check_against_torch(name, model, x, values):
    with torch.no_grad():
        expected = model(x).numpy()
    error = float(np.abs(values["output"] - expected).max())
    if error > TOLERANCE:
        raise SystemExit(f"{name}: onnxruntime differs from torch by {error}")
    return error


def as_stored(value):
    """Float values as float32 (the fixtures' dtype); integer values (shape tensors) keep theirs."""
    return value.astype(np.float32) if np.issubdtype(value.dtype, np.floating) else np.ascontiguousarray(value)


def state_dict(model):
    return {k: v.float().contiguous() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def sidecar(name, model, x, graph, values):
    info = {
        "input_shape": list(x.shape),
        "torch_params": sum(p.numel() for p in model.parameters()),
        "node_outputs": {node.name: list(node.output) for node in graph.graph.node},
        "values": {"input": list(x.shape), **{k: list(v.shape) for k, v in values.items()}},
    }
    if name == "misaligned":
        info["receptive_fields"] = misaligned_fields(graph)
    return info


def misaligned_fields(graph):
    """The hand-derived fields keyed by branch, with the ONNX node and value they belong to."""
    fields = {}
    for branch, field in MISALIGNED_FIELDS.items():
        node = next(n for n in graph.graph.node if n.name == f"/{field['module']}/Conv")
        fields[branch] = {"node": node.name, "value": node.output[0],
                          **{k: v for k, v in field.items() if k != "module"}}
    return fields


def write_fixture(name):
    model, x = build(name)
    if name == "misaligned":
        check_misaligned_fields(model)
    base = os.path.join(OUT, name)
    graph = export(model, x, base + ".onnx")
    values = run_all(graph, x)
    error = check_against_torch(name, model, x, values)
    np.save(base + ".input.npy", x.numpy())
    save_numpy({k: as_stored(v) for k, v in values.items()}, base + ".outputs.safetensors")
    save_torch(state_dict(model), base + ".weights.safetensors")
    with open(base + ".json", "w") as f:
        json.dump(sidecar(name, model, x, graph, values), f, indent=1)
        f.write("\n")
    print(f"{name}: max |ort - torch| = {error:.2e}")
    for node in graph.graph.node:
        print(f"  {node.name} ({node.op_type}) -> {', '.join(node.output)}")
    return model, x


def write_other_opsets(model, x):
    """The residual block again at opsets 11 and 17, for the importer's opset handling."""
    for opset in (11, 17):
        path = os.path.join(OUT, f"residual.opset{opset}.onnx")
        graph = export(model, x, path, opset)
        error = check_against_torch(f"residual opset {opset}", model, x, run_all(graph, x))
        print(f"residual.opset{opset}: max |ort - torch| = {error:.2e}")


def tiny_conv_graph(extra_nodes=(), output="y", output_shape=(1, 2, 4, 4)):
    """A 1x1x6x6 -> Conv(2 filters, 3x3) graph, optionally followed by more nodes."""
    rng = np.random.default_rng(7)
    weight = numpy_helper.from_array(rng.standard_normal((2, 1, 3, 3)).astype(np.float32), "conv.weight")
    bias = numpy_helper.from_array(rng.standard_normal(2).astype(np.float32), "conv.bias")
    conv = helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["y"], name="/conv/Conv", kernel_shape=[3, 3])
    graph = helper.make_graph([conv, *extra_nodes], "tiny",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 6, 6])],
                              [helper.make_tensor_value_info(output, TensorProto.FLOAT, list(output_shape))],
                              [weight, bias])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(model)
    return model


def write_external_data():
    """Weights saved beside the model in external-data.bin, which is then deleted: the
    reference dangles, and loading must say so rather than crash or read zeros."""
    path = os.path.join(OUT, "external-data.onnx")
    onnx.save_model(tiny_conv_graph(), path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="external-data.bin", size_threshold=0)
    os.remove(os.path.join(OUT, "external-data.bin"))


def write_unsupported_op():
    """A supported Conv followed by an Einsum, which ConvViz does not run: the error
    should name the op and the node."""
    einsum = helper.make_node("Einsum", ["y", "y"], ["z"], name="/attention/Einsum", equation="nchw,nchw->nhw")
    model = tiny_conv_graph([einsum], "z", (1, 4, 4))
    ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    onnx.save_model(model, os.path.join(OUT, "unsupported-op.onnx"))


def write_pickles():
    """PyTorch checkpoints are pickles (code, not data): ConvViz must refuse both the zip
    container and the legacy one with an explanation, never unpickle them. The legacy
    file's bytes change from run to run (its storage keys are memory addresses)."""
    torch.manual_seed(8)
    weights = {"conv.weight": torch.randn(2, 1, 3, 3), "conv.bias": torch.randn(2)}
    torch.save(weights, os.path.join(OUT, "pickle.pt"))
    torch.save(weights, os.path.join(OUT, "legacy-pickle.pth"), _use_new_zipfile_serialization=False)


def main():
    os.makedirs(OUT, exist_ok=True)
    print(f"torch {torch.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}")
    for name in FIXTURES:
        model, x = write_fixture(name)
        if name == "residual":
            write_other_opsets(model, x)
    write_external_data()
    write_unsupported_op()
    write_pickles()


if __name__ == "__main__":
    main()
