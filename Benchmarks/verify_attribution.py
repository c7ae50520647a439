"""Every attribution method of `convviz attribute` against pytorch-grad-cam and Captum on
torchvision networks, by hand (not in CI):

  swift build -c release --product convviz
  Benchmarks/.venv/bin/python Benchmarks/verify_attribution.py [--models resnet18,...] [--size 64] [--skip scorecam,ablationcam]

Networks: resnet18, resnet50, vgg11_bn (at 224: its adaptive pooling needs it),
mobilenet_v2, densenet121, efficientnet_b0, with random weights (seed 0) and BatchNorm
given non-trivial running statistics (uniform means in [-0.2, 0.2], variances in
[0.5, 1.5], scales in [0.5, 1.0]), exported to ONNX (TorchScript exporter, opset 13, no
constant folding) at --size; one random input; the target the predicted class.

The CAM layer is the network's last spatial block (grad-cam's target module: resnet
layer4[-1], vgg avgpool, mobilenet and efficientnet features[-1], densenet features,
whose output is norm5 before a functional ReLU), given to convviz by its ONNX node name.
Raw maps are compared: CAMs' `get_cam_image` output (before ReLU and min-max; Eigen-CAM
up to sign), Captum's attributions as they are. Prints, per network and method, the worst
|ConvViz - reference| relative to the largest reference value, and the time of each side.

Float32 cannot resolve every map of a random network: where a map is far smaller than
the logit it is a difference of (occlusion of a network whose output barely depends on
its input, integrated gradients summing 50 gradients that cancel), the reference tool's
own float32 map is rounding noise. So each reference also runs in float64 (the same
tool on `model.double()`, `--no-float64` skips it), and the script prints three errors,
each relative to the largest float64 value: ConvViz vs the float32 reference, the float32
reference vs float64 (the tool's own rounding), and ConvViz vs float64. ConvViz is as
exact as float32 allows where its error against float64 is no larger than the
reference's own. At the end, a Markdown table of the three per network and method.

Two changes to the reference side, each measured (docs/attribution.md):
- densenet121's forward ends in `F.relu(features, inplace=True)`: the in-place ReLU
  overwrites the `features` output that grad-cam's hook has kept, so grad-cam's maps at
  `model.features` mix post-ReLU activations with pre-ReLU gradients (Grad-CAM 6e-2,
  Eigen-CAM 0.38 of the largest value away from the same tool without the in-place
  op). Here densenet's forward is the same computation with that ReLU as an nn.ReLU
  module, not in place: grad-cam then sees norm5's output, and Captum's guided backprop
  and deconvnet hook that ReLU too (Captum hooks nn.ReLU modules only, ConvViz applies
  the rule to every ReLU: ReLU6, SiLU and the other activations keep their gradients on
  both sides).
- grad-cam's AblationLayer sets channel i of a batch to min(A) - 1e7 with the minimum
  taken over the batch it has already edited: on a layer with negative values
  (efficientnet's SiLU) the i-th channel of each batch gets min(A) - (i + 1) 1e7, a value
  that depends on the batch size. Here it takes the minimum once, as ConvViz does; on a
  layer after a ReLU (minimum 0) both are the original.
"""
import argparse, os, subprocess, sys, tempfile, time, warnings

import numpy as np
import torch

from compare_attribution import make_model   # the same networks, the same BatchNorm statistics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
warnings.filterwarnings("ignore")

CAMS = ["gradcam", "gradcam++", "hirescam", "xgradcam", "layercam", "eigencam", "eigengradcam", "scorecam", "ablationcam"]
CAPTUM = ["saliency", "input-x-gradient", "integrated-gradients", "guided-backprop", "deconvnet", "guided-gradcam", "occlusion"]


def densenet_forward(self, x):
    """torchvision's DenseNet.forward with its final ReLU a module, not in place."""
    out = self.final_relu(self.features(x))
    out = torch.nn.functional.adaptive_avg_pool2d(out, (1, 1))
    return self.classifier(torch.flatten(out, 1))


def ablation_layer_call(self, x):
    """grad-cam's AblationLayer.__call__ with the ablation value computed once."""
    output = self.activations
    low = torch.min(output)
    value = 0 if low == 0 else low - 1e7
    for i in range(output.size(0)):
        output[i, self.indices[i], :] = value
    return output


def model_and_layer(name):
    import types
    from pytorch_grad_cam.ablation_layer import AblationLayer
    AblationLayer.__call__ = ablation_layer_call
    model = make_model(name)
    if name == "densenet121":
        model.final_relu = torch.nn.ReLU()
        model.forward = types.MethodType(densenet_forward, model)
    for m in model.modules():
        if isinstance(m, torch.nn.ReLU):
            m.inplace = False   # Captum's ReLU hooks refuse in-place ReLUs
    module, node = {
        "resnet18": (lambda: model.layer4[-1], "/layer4/layer4.1/relu_1/Relu"),
        "resnet50": (lambda: model.layer4[-1], "/layer4/layer4.2/relu_2/Relu"),
        "vgg11_bn": (lambda: model.avgpool, None),
        "mobilenet_v2": (lambda: model.features[-1], None),
        "densenet121": (lambda: model.features, "/features/norm5/BatchNormalization"),
        "efficientnet_b0": (lambda: model.features[-1], None),
    }[name]
    return model, module(), node


def references(model, layer, x, target, methods, window):
    from pytorch_grad_cam import (GradCAM, GradCAMPlusPlus, HiResCAM, XGradCAM, LayerCAM, EigenCAM, EigenGradCAM,
                                  ScoreCAM, AblationCAM)
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    from captum.attr import (Saliency, InputXGradient, IntegratedGradients, GuidedBackprop, Deconvolution,
                             GuidedGradCam, Occlusion)
    classes = dict(zip(CAMS, [GradCAM, GradCAMPlusPlus, HiResCAM, XGradCAM, LayerCAM, EigenCAM, EigenGradCAM, ScoreCAM, AblationCAM]))
    out, seconds = {}, {}
    for m in methods:
        start = time.perf_counter()
        if m in classes:
            cam = classes[m](model=model, target_layers=[layer])
            raws, original = [], cam.get_cam_image
            cam.get_cam_image = lambda *a, **k: raws.append(np.array(original(*a, **k), dtype=np.float32)) or raws[-1]
            cam(input_tensor=x.clone(), targets=[ClassifierOutputTarget(target)])
            cam.activations_and_grads.release()
            out[m] = raws[0]
        else:
            t = torch.tensor([target])
            run = {
                "saliency": lambda: Saliency(model).attribute(x.clone(), target=t),
                "input-x-gradient": lambda: InputXGradient(model).attribute(x.clone(), target=t),
                "integrated-gradients": lambda: IntegratedGradients(model).attribute(x.clone(), baselines=0 * x, target=t, n_steps=50),
                "guided-backprop": lambda: GuidedBackprop(model).attribute(x.clone(), target=t),
                "deconvnet": lambda: Deconvolution(model).attribute(x.clone(), target=t),
                "guided-gradcam": lambda: GuidedGradCam(model, layer).attribute(x.clone(), target=t),
                "occlusion": lambda: Occlusion(model).attribute(x.clone(), sliding_window_shapes=(3, window, window),
                                                                strides=(3, window // 2, window // 2), baselines=0, target=t),
            }[m]
            out[m] = run().detach().numpy().astype(np.float32)
        seconds[m] = time.perf_counter() - start
    return out, seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="resnet18,mobilenet_v2,efficientnet_b0,densenet121,resnet50,vgg11_bn")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--skip", default="")
    parser.add_argument("--no-float64", action="store_true")
    parser.add_argument("--float64-skip", default="scorecam,ablationcam",
                        help="methods whose float64 reference is not run (forward-only scores, well conditioned; the slowest)")
    a = parser.parse_args()
    torch.set_num_threads(2)
    convviz = os.path.join(ROOT, ".build", "release", "convviz")
    skip = set(filter(None, a.skip.split(",")))
    methods = [m for m in CAMS + CAPTUM if m not in skip]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared: times are indicative)")
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name in a.models.split(","):
            size = 224 if name == "vgg11_bn" else a.size
            model, layer, node = model_and_layer(name)
            torch.manual_seed(1)
            x = torch.randn(1, 3, size, size)
            path, xin = os.path.join(d, f"{name}.onnx"), os.path.join(d, "x.npy")
            torch.onnx.export(model, (x,), path, dynamo=False, opset_version=13, do_constant_folding=False,
                              training=torch.onnx.TrainingMode.EVAL, input_names=["input"], output_names=["output"])
            np.save(xin, x.numpy())
            with torch.no_grad():
                target = int(model(x).argmax())
            window = max(4, size // 8)
            refs, torch_seconds = references(model, layer, x, target, methods, window)
            exact = {}
            if not a.no_float64:
                model64, layer64, _ = model_and_layer(name)
                skip64 = set(filter(None, a.float64_skip.split(",")))
                exact, _ = references(model64.double(), layer64, x.double(), target, [m for m in methods if m not in skip64], window)
            for m in methods:
                saved = os.path.join(d, "map.npy")
                args = [convviz, "attribute", "--model", path, "--input", xin, "--method", m, "--target", str(target),
                        "--window", str(window), "--stride", str(window // 2), "--batch", "32", "--save-map", saved, "-o", os.path.join(d, "fig.png")]
                if node:
                    args += ["--layer", node]
                start = time.perf_counter()
                r = subprocess.run(args, capture_output=True, text=True)
                elapsed = time.perf_counter() - start
                if r.returncode != 0:
                    print(f"{name:16s} {m:22s} convviz failed: {r.stderr.strip()[:300]}")
                    rows.append((name, m, None, None, None, torch_seconds[m], None, r.stderr.strip()[:120]))
                    continue
                got, want = np.load(saved).reshape(-1).astype(np.float64), refs[m].reshape(-1).astype(np.float64)
                truth = exact[m].reshape(-1).astype(np.float64) if m in exact else want
                scale = max(np.abs(truth).max(), 1e-300)

                def worst(a_, b_):
                    e = np.abs(a_ - b_).max()
                    if m in ("eigencam", "eigengradcam"):
                        e = min(e, np.abs(-a_ - b_).max())
                    return e / scale
                errors = (worst(got, want), worst(want, truth) if m in exact else None, worst(got, truth) if m in exact else None)
                rows.append((name, m) + errors + (torch_seconds[m], elapsed, ""))
                f64 = "" if errors[1] is None else f"; reference float32 vs float64 {errors[1]:.1e}, ConvViz vs float64 {errors[2]:.1e}"
                print(f"{name:16s} {m:22s} worst error {errors[0]:.2e} of the largest value{f64}; "
                      f"largest |value| {scale:.2e}; reference {torch_seconds[m]:.2f} s, convviz {elapsed:.2f} s (process, model load included)")
                sys.stdout.flush()
    print("\n| network | method | ConvViz vs reference | reference f32 vs f64 | ConvViz vs f64 | reference s | ConvViz s |")
    print("|---|---|---|---|---|---|---|")
    for name, m, e0, e1, e2, ts, cs, note in rows:
        fmt = lambda v: "" if v is None else f"{v:.1e}"
        if e0 is None:
            print(f"| {name} | {m} | failed: {note} | | | {ts:.2f} | |")
        else:
            print(f"| {name} | {m} | {fmt(e0)} | {fmt(e1)} | {fmt(e2)} | {ts:.2f} | {cs:.2f} |")


if __name__ == "__main__":
    main()
