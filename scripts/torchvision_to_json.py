"""Converts a torchvision classification model to a ConvViz architecture JSON
(docs/architecture-format.md), tracing it with torch.fx, and optionally writes random
weights for it as a safetensors state dict.

  Benchmarks/.venv/bin/python scripts/torchvision_to_json.py resnet18 -o Examples/resnet18.json \
      --weights /tmp/resnet18.safetensors
  convviz shapes Examples/resnet18.json
  convviz activations --model Examples/resnet18.json --weights /tmp/resnet18.safetensors \
      --image photo.png --layer layer2.0.conv1 -o maps.png

Layer names (so that `model.state_dict()` loads by name, and names match torchvision's
`get_graph_node_names` / `create_feature_extractor` where its own naming is sound):
  * a module's layer is named after its module path, the state-dict prefix:
    "conv1", "layer1.0.conv1", "features.0.0", "classifier.1";
  * a module called more than once (ResNet blocks call `relu` twice) keeps its path for
    the first call; later calls get "_1", "_2", ...: "layer1.0.relu", "layer1.0.relu_1".
    Only modules without parameters may be called more than once (ConvViz has no
    shared weights);
  * a function or tensor method (operator.add, torch.flatten, torch.cat, F.relu, ...)
    is named after the function, inside the module that calls it, numbered the same way
    when repeated: "layer1.0.add", "features.2.add", "flatten", "adaptive_avg_pool2d".
A name already used by a module is skipped when numbering. The network's input is
"input". A layer lists "inputs" only when it does not take the previous layer's output,
and keys equal to their defaults are left out, so that a chain reads as a chain.

Supported: nn.Conv2d (zero padding), Linear, BatchNorm2d (affine, running statistics),
ReLU, ReLU6, Hardtanh (clip; (0, 6) is relu6), SiLU, Hardswish, Hardsigmoid, Sigmoid,
LeakyReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d ((1, 1): globalavgpool), Dropout,
Flatten (start_dim 1), Identity, torchvision's StochasticDepth (the identity at
evaluation), and the matching functions and methods: add (+), mul (*), torch.cat on
channels, torch.flatten(x, 1), F.relu, F.relu6, F.hardtanh, F.silu, F.hardswish,
F.hardsigmoid, torch.sigmoid, F.leaky_relu, F.max_pool2d, F.avg_pool2d,
F.adaptive_avg_pool2d, F.dropout. Anything else stops with an error naming the node.
The model is traced in evaluation mode.

--weights writes the state dict of the model as built with seed 0 (weights=None:
torchvision's own random initialisation), after giving every BatchNorm random affine
parameters and running statistics taken from one random batch (so that every tensor
of the file changes the output and activations keep a sensible scale).
`num_batches_tracked` is saved too; ConvViz ignores it. Modules that the evaluation
graph never calls (GoogLeNet's and Inception-v3's auxiliary classifiers) are left out
of the architecture, of the parameter count printed and of --weights, with a note.
"""
import argparse
import json
import operator
import sys

import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F
import torchvision

try:
    from torchvision.ops import StochasticDepth
except ImportError:  # older torchvision
    StochasticDepth = ()


class ConversionError(Exception):
    pass


class NamingTracer(fx.Tracer):
    """An fx tracer that records, per node, the layer name described in the module
    docstring (torchvision's NodePathTracer does the same, but its renumbering strips a
    trailing "_<digits>" from module paths such as Inception's "branch5x5_1")."""

    def __init__(self, root):
        super().__init__()
        self.qualscope = ""
        self.names = {}
        self.module_paths = {path for path, _ in root.named_modules() if path}
        self.used = set()

    def is_leaf_module(self, m, qualname):
        if StochasticDepth and isinstance(m, StochasticDepth):
            return True
        return super().is_leaf_module(m, qualname)

    def call_module(self, m, forward, args, kwargs):
        outer = self.qualscope
        try:
            path = self.path_of_module(m)
            self.qualscope = path
            if not self.is_leaf_module(m, path):
                return forward(*args, **kwargs)
            return self.create_proxy("call_module", path, args, kwargs)
        finally:
            self.qualscope = outer

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, *rest, **more):
        proxy = super().create_proxy(kind, target, args, kwargs, name, type_expr, *rest, **more)
        node = proxy.node
        if kind == "call_module":
            self.names[node] = self._unique(target, module=True)
        elif kind in ("call_function", "call_method"):
            base = target if isinstance(target, str) else getattr(target, "__name__", str(target))
            base = base.strip("_") or "op"
            self.names[node] = self._unique(f"{self.qualscope}.{base}" if self.qualscope else base, module=False)
        return proxy

    def _unique(self, base, module):
        """`base` when free (a module's own path always is, the first time), else
        base_1, base_2, ...; module paths and "input" are never given to anything else."""
        taken = lambda n: n in self.used or n in self.module_paths or n == "input"
        name = base
        if (module and base not in self.used) or (not module and not taken(base)):
            name = base
        else:
            k = 1
            while taken(f"{base}_{k}"):
                k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name


def pair(value, what, label):
    """An int or (h, w) as ConvViz writes it: an int when both agree."""
    if isinstance(value, int):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return value[0] if value[0] == value[1] else [value[0], value[1]]
    raise ConversionError(f"layer '{label}': {what} {value!r} is not an int or a pair of ints")


def is_default(value, default):
    return value == default or (isinstance(value, (tuple, list)) and all(v == default for v in value))


def clip_spec(lo, hi):
    if lo == 0 and hi == 6:
        return {"type": "relu6"}
    return {"type": "clip", "min": float(lo), "max": float(hi)}


def conv_spec(m, label):
    if m.padding_mode != "zeros":
        raise ConversionError(f"layer '{label}': Conv2d padding_mode '{m.padding_mode}' (ConvViz pads with zeros)")
    padding = m.padding
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        else:  # 'same' (stride 1): symmetric when every D(K-1) is even
            spans = [d * (k - 1) for d, k in zip(m.dilation, m.kernel_size)]
            if any(s % 2 for s in spans):
                raise ConversionError(f"layer '{label}': padding='same' with an even window pads unevenly; ConvViz pads symmetrically")
            padding = tuple(s // 2 for s in spans)
    spec = {"type": "conv", "out": m.out_channels, "kernel": pair(m.kernel_size, "kernel", label)}
    if not is_default(m.stride, 1):
        spec["stride"] = pair(m.stride, "stride", label)
    if not is_default(padding, 0):
        spec["padding"] = pair(padding, "padding", label)
    if not is_default(m.dilation, 1):
        spec["dilation"] = pair(m.dilation, "dilation", label)
    if m.groups != 1:
        spec["groups"] = m.groups
    if m.bias is None:
        spec["bias"] = False
    return spec


def pool_spec(kind, kernel, stride, padding, ceil_mode, label, dilation=1, count_include_pad=True, divisor_override=None):
    if not is_default(dilation, 1):
        raise ConversionError(f"layer '{label}': pooling with dilation {dilation!r} is not supported by ConvViz")
    if divisor_override is not None:
        raise ConversionError(f"layer '{label}': avg pooling with divisor_override is not supported by ConvViz")
    spec = {"type": kind, "kernel": pair(kernel, "kernel", label)}
    if stride is not None and stride != [] and pair(stride, "stride", label) != spec["kernel"]:
        spec["stride"] = pair(stride, "stride", label)
    if not is_default(padding, 0):
        spec["padding"] = pair(padding, "padding", label)
    if ceil_mode:
        spec["ceil_mode"] = True
    if kind == "avgpool" and not count_include_pad:
        spec["count_include_pad"] = False
    return spec


def adaptive_spec(output_size, label):
    if output_size is None or (isinstance(output_size, (tuple, list)) and None in output_size):
        raise ConversionError(f"layer '{label}': adaptive pooling that keeps an input size (None) is not supported")
    size = pair(output_size, "output_size", label)
    return {"type": "globalavgpool"} if size == 1 else {"type": "adaptiveavgpool", "output_size": size}


def flatten_spec(start_dim, end_dim, label):
    if start_dim != 1 or end_dim != -1:
        raise ConversionError(f"layer '{label}': flatten(start_dim={start_dim}, end_dim={end_dim}); ConvViz flattens everything but the batch (start_dim=1)")
    return {"type": "flatten"}


def module_spec(m, label):
    """The layer for a leaf module, without name and inputs."""
    if isinstance(m, nn.Conv2d):
        return conv_spec(m, label)
    if isinstance(m, nn.Linear):
        return {"type": "linear", "out": m.out_features} | ({} if m.bias is not None else {"bias": False})
    if isinstance(m, nn.BatchNorm2d):
        if not m.affine or not m.track_running_stats:
            raise ConversionError(f"layer '{label}': BatchNorm2d without affine parameters or running statistics (ConvViz's batchnorm has both)")
        spec = {"type": "batchnorm"}
        if m.eps != 1e-5:
            spec["eps"] = m.eps
        if m.momentum is not None and m.momentum != 0.1:
            spec["momentum"] = m.momentum
        return spec
    if isinstance(m, nn.ReLU6):  # a Hardtanh subclass: test it first
        return {"type": "relu6"}
    if isinstance(m, nn.Hardtanh):
        return clip_spec(m.min_val, m.max_val)
    if isinstance(m, nn.ReLU):
        return {"type": "relu"}
    if isinstance(m, nn.LeakyReLU):
        return {"type": "leakyrelu"} | ({} if m.negative_slope == 0.01 else {"negative_slope": m.negative_slope})
    simple = {nn.SiLU: "silu", nn.Hardswish: "hardswish", nn.Hardsigmoid: "hardsigmoid", nn.Sigmoid: "sigmoid", nn.Identity: "identity"}
    for cls, kind in simple.items():
        if type(m) is cls:
            return {"type": kind}
    if StochasticDepth and isinstance(m, StochasticDepth):
        return {"type": "identity"}
    if type(m) is nn.Dropout:
        return {"type": "dropout", "p": m.p}
    if isinstance(m, nn.MaxPool2d):
        if m.return_indices:
            raise ConversionError(f"layer '{label}': MaxPool2d(return_indices=True) is not supported")
        return pool_spec("maxpool", m.kernel_size, m.stride, m.padding, m.ceil_mode, label, dilation=m.dilation)
    if isinstance(m, nn.AvgPool2d):
        return pool_spec("avgpool", m.kernel_size, m.stride, m.padding, m.ceil_mode, label,
                         count_include_pad=m.count_include_pad, divisor_override=m.divisor_override)
    if isinstance(m, nn.AdaptiveAvgPool2d):
        return adaptive_spec(m.output_size, label)
    if isinstance(m, nn.Flatten):
        return flatten_spec(m.start_dim, m.end_dim, label)
    raise ConversionError(f"layer '{label}': module {type(m).__module__}.{type(m).__name__} has no ConvViz layer type")


def argument(label, args, kwargs, index, key, default):
    """A call's argument by position or keyword."""
    if len(args) > index:
        return args[index]
    return kwargs.get(key, default)


def function_spec(node, label):
    """The layer for a call_function / call_method node, and the nodes it reads."""
    target, args, kwargs = node.target, node.args, node.kwargs
    name = target if isinstance(target, str) else getattr(target, "__name__", str(target))
    method = node.op == "call_method"
    x = args[0] if args else None

    def one(spec):
        return spec, [x]

    if target in (operator.add, torch.add, operator.mul, torch.mul) or (method and name in ("add", "mul", "add_", "mul_")):
        kind = "add" if "add" in name else "mul"
        if len(args) != 2 or not all(isinstance(a, fx.Node) for a in args) or (kwargs.get("alpha", 1) != 1):
            raise ConversionError(f"layer '{label}': {name} of {args!r}; ConvViz's {kind} takes two layer outputs")
        return {"type": kind}, list(args)
    if target is torch.cat or target is torch.concat:
        tensors, dim = argument(node, args, kwargs, 0, "tensors", None), argument(node, args, kwargs, 1, "dim", 0)
        if dim not in (1, -3) or not all(isinstance(t, fx.Node) for t in tensors):
            raise ConversionError(f"layer '{label}': torch.cat on dim {dim}; ConvViz concatenates channels (dim 1)")
        return {"type": "concat"}, list(tensors)
    if target is torch.flatten or (method and name == "flatten"):
        return one(flatten_spec(argument(node, args, kwargs, 1, "start_dim", 0), argument(node, args, kwargs, 2, "end_dim", -1), label))
    if target in (F.relu, torch.relu) or (method and name in ("relu", "relu_")):
        return one({"type": "relu"})
    if target is F.relu6:
        return one({"type": "relu6"})
    if target is F.hardtanh:
        return one(clip_spec(argument(node, args, kwargs, 1, "min_val", -1.0), argument(node, args, kwargs, 2, "max_val", 1.0)))
    if target in (torch.clamp, torch.clip) or (method and name in ("clamp", "clip")):
        lo, hi = argument(node, args, kwargs, 1, "min", None), argument(node, args, kwargs, 2, "max", None)
        if lo is None or hi is None:
            raise ConversionError(f"layer '{label}': clamp needs both bounds for ConvViz's clip")
        return one(clip_spec(lo, hi))
    if target in (torch.sigmoid, F.sigmoid) or (method and name == "sigmoid"):
        return one({"type": "sigmoid"})
    simple = {F.silu: "silu", F.hardswish: "hardswish", F.hardsigmoid: "hardsigmoid"}
    if target in simple:
        return one({"type": simple[target]})
    if target is F.leaky_relu:
        slope = argument(node, args, kwargs, 1, "negative_slope", 0.01)
        return one({"type": "leakyrelu"} | ({} if slope == 0.01 else {"negative_slope": slope}))
    if target is F.dropout:
        return one({"type": "dropout", "p": argument(node, args, kwargs, 1, "p", 0.5)})
    if target is F.adaptive_avg_pool2d:
        return one(adaptive_spec(argument(node, args, kwargs, 1, "output_size", None), label))
    if target is F.max_pool2d:
        a = lambda i, k, d: argument(node, args, kwargs, i, k, d)
        if a(6, "return_indices", False):
            raise ConversionError(f"layer '{label}': max_pool2d(return_indices=True) is not supported")
        return one(pool_spec("maxpool", a(1, "kernel_size", None), a(2, "stride", None), a(3, "padding", 0), a(5, "ceil_mode", False), label, dilation=a(4, "dilation", 1)))
    if target is F.avg_pool2d:
        a = lambda i, k, d: argument(node, args, kwargs, i, k, d)
        return one(pool_spec("avgpool", a(1, "kernel_size", None), a(2, "stride", None), a(3, "padding", 0), a(4, "ceil_mode", False), label,
                             count_include_pad=a(5, "count_include_pad", True), divisor_override=a(6, "divisor_override", None)))
    what = f"method .{name}()" if method else f"function {getattr(target, '__module__', '') or ''}.{name}".replace("None.", "")
    raise ConversionError(f"layer '{label}': {what} has no ConvViz layer type")


def convert(model, name, input_shape):
    """The architecture (a dict) of `model`, traced in evaluation mode."""
    model.eval()
    tracer = NamingTracer(model)
    try:
        graph = fx.GraphModule(model, tracer.trace(model)).graph
    except Exception as e:  # data-dependent control flow and the like
        raise ConversionError(f"torch.fx cannot trace it: {type(e).__name__}: {e}") from None
    graph.eliminate_dead_code()   # values nothing reads
    modules = dict(model.named_modules())
    value = {}   # fx node -> the layer name (or "input") holding its output
    layers = []
    for node in graph.nodes:
        if node.op == "placeholder":
            if value:
                raise ConversionError(f"fx node '{node}': the model takes more than one input")
            value[node] = "input"
            continue
        if node.op == "output":
            out = node.args[0]
            if not isinstance(out, fx.Node) or value.get(out) != (layers[-1]["name"] if layers else None):
                raise ConversionError(f"the model's output {out!r} is not the last layer computed")
            continue
        if node.op == "get_attr":
            raise ConversionError(f"fx node '{node}': reads the tensor attribute '{node.target}' directly; ConvViz layers own their weights")
        layer_name = tracer.names[node]
        try:
            if node.op == "call_module":
                m = modules[node.target]
                if layer_name != node.target and any(True for _ in m.parameters(recurse=False)):
                    raise ConversionError(f"layer '{layer_name}': module '{node.target}' with parameters is called more than once (shared weights)")
                if len(node.args) != 1 or node.kwargs:
                    raise ConversionError(f"layer '{layer_name}': module called with {len(node.args)} arguments and {dict(node.kwargs)}")
                spec, sources = module_spec(m, layer_name), [node.args[0]]
            else:
                spec, sources = function_spec(node, layer_name)
        except ConversionError as e:
            raise ConversionError(f"{e} [fx node '{node.name}']") from None
        inputs = []
        for s in sources:
            if not isinstance(s, fx.Node) or s not in value:
                raise ConversionError(f"layer '{layer_name}': reads {s!r}, which is not a layer's output")
            inputs.append(value[s])
        previous = layers[-1]["name"] if layers else "input"
        layer = {"type": spec.pop("type"), "name": layer_name}
        if inputs != [previous]:
            layer["inputs"] = inputs
        layer |= spec
        layers.append(layer)
        value[node] = layer_name
    return {"name": name, "input": list(input_shape), "layers": layers}


def dumps(arch):
    """One layer per line."""
    head = f'{{"name": {json.dumps(arch["name"])}, "input": {json.dumps(arch["input"])}, "layers": [\n'
    body = ",\n".join("  " + json.dumps(layer) for layer in arch["layers"])
    tail = "\n]"
    if arch.get("aliases"):
        tail += f',\n"aliases": {json.dumps(arch["aliases"])}'
    return head + body + tail + "}\n"


def randomize_batchnorm(model, input_shape, seed):
    """Random BatchNorm affine parameters, then running statistics from one random
    batch (momentum 1 for that pass), so that every tensor of the state dict matters."""
    g = torch.Generator().manual_seed(seed)
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for m in norms:
            if m.affine:
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
        saved = [m.momentum for m in norms]
        for m in norms:
            m.momentum = 1.0
        model.train()
        model(torch.randn((8, *input_shape), generator=g))
        for m, momentum in zip(norms, saved):
            m.momentum = momentum
    model.eval()


def main():
    parser = argparse.ArgumentParser(description="Convert a torchvision model to a ConvViz architecture JSON.")
    parser.add_argument("model", help="torchvision model name (torchvision.models.list_models()), e.g. resnet18")
    parser.add_argument("--input", default="3,224,224", help="per-sample input shape C,H,W (default 3,224,224)")
    parser.add_argument("-o", "--output", help="architecture JSON to write (default: standard output)")
    parser.add_argument("--weights", help="also write the model's state dict (random weights, seed 0) as safetensors")
    parser.add_argument("--seed", type=int, default=0, help="seed for the random weights (default 0)")
    args = parser.parse_args()

    try:
        input_shape = [int(v) for v in args.input.split(",")]
        assert len(input_shape) == 3 and min(input_shape) >= 1
    except (ValueError, AssertionError):
        parser.error(f"--input must be C,H,W, got '{args.input}'")
    torch.manual_seed(args.seed)
    try:
        model = torchvision.models.get_model(args.model, weights=None)
    except ValueError as e:
        parser.error(str(e))
    try:
        arch = convert(model, args.model, input_shape)
    except ConversionError as e:
        sys.exit(f"{args.model}: {e}")
    text = dumps(arch)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    # Modules the traced (evaluation) graph never calls, such as auxiliary classifiers
    # used only in training, have no layer: their tensors are left out of --weights.
    names = {layer["name"] for layer in arch["layers"]}
    owner = lambda key: key.rsplit(".", 1)[0]
    params = sum(p.numel() for k, p in model.named_parameters() if owner(k) in names)
    print(f"{args.model}: {len(arch['layers'])} layers, {params} parameters", file=sys.stderr)
    unused = sorted({owner(k) for k in model.state_dict() if owner(k) not in names})
    if unused:
        left = sum(p.numel() for k, p in model.named_parameters() if owner(k) not in names)
        print(f"note: {len(unused)} module(s) with weights are not called at evaluation "
              f"({', '.join(unused[:3])}{', ...' if len(unused) > 3 else ''}): their {left} parameters "
              f"are not part of the architecture{' or of --weights' if args.weights else ''}", file=sys.stderr)
    if args.weights:
        from safetensors.torch import save_file
        randomize_batchnorm(model, input_shape, args.seed)
        state = {k: v.contiguous() for k, v in model.state_dict().items() if owner(k) in names}
        save_file(state, args.weights)
        print(f"wrote {args.weights} ({len(state)} tensors)", file=sys.stderr)

if __name__ == "__main__":
    main()
