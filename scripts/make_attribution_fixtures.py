"""Writes the attribution fixtures that ConvViz's attribution tests read, into
Tests/ConvVizCoreTests/Fixtures/attribution/: a small residual network exported to ONNX
(random weights, BatchNorm with non-trivial running statistics, every ReLU its own
nn.ReLU module so that Captum's and grad-cam's ReLU hooks see each one), a batch of two
inputs, the target classes, and each method's maps from the reference tools:

  pytorch-grad-cam (PyPI grad-cam 1.5.7): GradCAM, GradCAMPlusPlus, HiResCAM, XGradCAM,
    LayerCAM, EigenCAM, EigenGradCAM, ScoreCAM, AblationCAM at layer relu5:
    <method>.raw.npy [N, h, w] (get_cam_image's output, before ReLU and min-max) and
    <method>.map.npy [N, H, W] (what the CAM object returns).
  Captum 0.9.0: Saliency, InputXGradient, IntegratedGradients (50 steps, Gauss-Legendre,
    zero baseline; its convergence delta in attribution.json), GuidedBackprop,
    Deconvolution, GuidedGradCam (at relu5), Occlusion (window 3x8x8, strides 3x4x4,
    baseline 0): <method>.npy [N, C, H, W].
  NoiseTunnel (nt_type "smoothgrad", 4 samples, sigma = 0.15 x the image's range) over
    Saliency (abs) and over IntegratedGradients (20 steps, zero baseline), each image
    alone, with the noise drawn here and saved (smoothgrad.noise.npy [N, S, C, H, W]):
    smoothgrad.npy, smoothgrad-ig.npy [N, C, H, W].
  ROAD (grad-cam's metrics/road.py) on grad-cam's Grad-CAM maps, the imputer's noise set
    to 0 (its torch noise cannot be replayed): road.npy [4, 9, N] = MoRF and LeRF at
    percentiles 10..90 with ClassifierOutputTarget (logit change), then the same with
    ClassifierOutputSoftmaxTarget (probability change); road-average.npy [2, 3, N] =
    ROADMostRelevantFirstAverage, ...LeastRelevantFirstAverage and ROADCombined (logit,
    then probability); road-imputed.npy [N, C, H, W]: MoRF at 70's imputed images.
  The network with a final nn.Softmax(dim=1) (net-softmax.onnx) and nn.LogSoftmax(dim=-1)
    (net-logsoftmax.onnx) and onnxruntime's outputs of each (softmax.ort.npy,
    logsoftmax.ort.npy); softmax-inside.onnx, a Softmax over channels inside a network,
    which ConvViz must refuse.

Run by hand (not in CI), from the repository root:

  Benchmarks/.venv/bin/python scripts/make_attribution_fixtures.py

Made with torch 2.15.0, grad-cam 1.5.7, captum 0.9.0, onnx 1.23.2. Seeded: a rerun
writes the same maps.
"""
import json, os, warnings

import numpy as np
import torch
import torch.nn as nn

from pytorch_grad_cam import (GradCAM, GradCAMPlusPlus, HiResCAM, XGradCAM, LayerCAM, EigenCAM,
                              EigenGradCAM, ScoreCAM, AblationCAM)
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from captum.attr import (Saliency, InputXGradient, IntegratedGradients, GuidedBackprop, Deconvolution,
                         GuidedGradCam, Occlusion, NoiseTunnel)
from pytorch_grad_cam.metrics import road
from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "ConvVizCoreTests", "Fixtures", "attribution")
warnings.filterwarnings("ignore")


class Net(nn.Module):
    """conv-bn-relu twice, a residual block of two 16-channel 3x3 convolutions (ConvViz's
    Winograd path), a strided conv to 32 x 8 x 8 (the CAM layer, relu5), pool, linear."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1, self.relu1 = nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU()
        self.conv2, self.bn2, self.relu2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU()
        self.conv3, self.bn3, self.relu3 = nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU()
        self.conv4, self.bn4, self.relu4 = nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU()
        self.conv5, self.bn5, self.relu5 = nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU()
        self.pool, self.flatten, self.fc = nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        y = self.bn4(self.conv4(self.relu3(self.bn3(self.conv3(x)))))
        x = self.relu4(x + y)
        x = self.relu5(self.bn5(self.conv5(x)))
        return self.fc(self.flatten(self.pool(x)))


def make_model(seed=0):
    torch.manual_seed(seed)
    model = Net()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


def main():
    os.makedirs(OUT, exist_ok=True)
    model = make_model()
    torch.manual_seed(1)
    x = torch.randn(2, 3, 32, 32)
    targets = [3, 7]
    torch.onnx.export(model, (x,), os.path.join(OUT, "net.onnx"), dynamo=False, opset_version=13, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.EVAL, input_names=["input"], output_names=["output"])
    np.save(os.path.join(OUT, "input.npy"), x.numpy())
    with torch.no_grad():
        logits = model(x).numpy()
    np.save(os.path.join(OUT, "logits.npy"), logits)

    layer = model.relu5
    cams = {"gradcam": GradCAM, "gradcam++": GradCAMPlusPlus, "hirescam": HiResCAM, "xgradcam": XGradCAM,
            "layercam": LayerCAM, "eigencam": EigenCAM, "eigengradcam": EigenGradCAM, "scorecam": ScoreCAM,
            "ablationcam": AblationCAM}
    for name, cls in cams.items():
        cam = cls(model=model, target_layers=[layer])
        raws = []
        original = cam.get_cam_image

        def keep(*args, **kwargs):
            r = original(*args, **kwargs)
            raws.append(np.array(r, dtype=np.float32))
            return r
        cam.get_cam_image = keep
        maps = cam(input_tensor=x.clone(), targets=[ClassifierOutputTarget(t) for t in targets])
        np.save(os.path.join(OUT, f"{name}.raw.npy"), raws[0])
        np.save(os.path.join(OUT, f"{name}.map.npy"), np.asarray(maps, dtype=np.float32))
        cam.activations_and_grads.release()

    t = torch.tensor(targets)
    captum = {
        "saliency": lambda: Saliency(model).attribute(x.clone(), target=t),
        "input-x-gradient": lambda: InputXGradient(model).attribute(x.clone(), target=t),
        "guided-backprop": lambda: GuidedBackprop(model).attribute(x.clone(), target=t),
        "deconvnet": lambda: Deconvolution(model).attribute(x.clone(), target=t),
        "guided-gradcam": lambda: GuidedGradCam(model, layer).attribute(x.clone(), target=t),
        "occlusion": lambda: Occlusion(model).attribute(x.clone(), sliding_window_shapes=(3, 8, 8), strides=(3, 4, 4),
                                                        baselines=0, target=t),
    }
    for name, run in captum.items():
        np.save(os.path.join(OUT, f"{name}.npy"), run().detach().numpy().astype(np.float32))
    ig, delta = IntegratedGradients(model).attribute(x.clone(), baselines=0 * x, target=t, n_steps=50,
                                                      method="gausslegendre", return_convergence_delta=True)
    np.save(os.path.join(OUT, "integrated-gradients.npy"), ig.detach().numpy().astype(np.float32))

    smoothgrad_fixtures(model, x, targets)
    road_fixtures(model, x, targets)
    softmax_fixtures(model, x)

    with open(os.path.join(OUT, "attribution.json"), "w") as f:
        json.dump({"layer": "relu5", "targets": targets, "occlusion": {"window": 8, "stride": 4},
                   "integrated_gradients": {"steps": 50, "delta": [float(d) for d in delta]},
                   "versions": {"torch": torch.__version__, "grad-cam": "1.5.7", "captum": "0.9.0"}}, f, indent=1)
        f.write("\n")
    print("wrote", sorted(os.listdir(OUT)))


def smoothgrad_fixtures(model, x, targets, samples=4, fraction=0.15, steps=20):
    """NoiseTunnel over Saliency and IntegratedGradients with noise drawn here (seeded)
    and handed to Captum in place of its own draw, so that ConvViz can replay it."""
    g = torch.Generator().manual_seed(2)
    noise = []
    for i in range(x.shape[0]):
        sigma = fraction * float(x[i].max() - x[i].min())
        noise.append(torch.normal(0.0, sigma, (samples,) + tuple(x.shape[1:]), generator=g))
    np.save(os.path.join(OUT, "smoothgrad.noise.npy"), torch.stack(noise).numpy())
    original = NoiseTunnel._add_noise_to_input
    outputs = {"smoothgrad": [], "smoothgrad-ig": []}
    try:
        for i in range(x.shape[0]):
            NoiseTunnel._add_noise_to_input = staticmethod(
                lambda input, stdev, n, i=i: input.repeat_interleave(n, dim=0) + noise[i][:n])
            xi, t = x[i:i + 1].clone(), targets[i]
            outputs["smoothgrad"].append(NoiseTunnel(Saliency(model)).attribute(
                xi, nt_type="smoothgrad", nt_samples=samples, stdevs=1.0, target=t))
            outputs["smoothgrad-ig"].append(NoiseTunnel(IntegratedGradients(model)).attribute(
                xi, nt_type="smoothgrad", nt_samples=samples, stdevs=1.0, target=t, baselines=0 * xi, n_steps=steps,
                method="gausslegendre"))
    finally:
        NoiseTunnel._add_noise_to_input = original
    for name, maps in outputs.items():
        np.save(os.path.join(OUT, f"{name}.npy"), torch.cat(maps).detach().numpy().astype(np.float32))


def road_fixtures(model, x, targets):
    """grad-cam's ROAD on its own Grad-CAM maps, without the imputer's noise."""
    road.NoisyLinearImputer.__init__.__defaults__ = (0.0, road.neighbors_weights)
    cams = np.load(os.path.join(OUT, "gradcam.map.npy"))
    percentiles = [10, 20, 30, 40, 50, 60, 70, 80, 90]
    kinds = [[ClassifierOutputTarget(t) for t in targets], [ClassifierOutputSoftmaxTarget(t) for t in targets]]
    scores = []
    for kind in kinds:
        for metric in (road.ROADMostRelevantFirst, road.ROADLeastRelevantFirst):
            scores.append([metric(percentile=p)(x.clone(), cams, kind, model) for p in percentiles])
    np.save(os.path.join(OUT, "road.npy"), np.asarray(scores, dtype=np.float32))
    averages = [[road.ROADMostRelevantFirstAverage(percentiles)(x.clone(), cams, kind, model),
                 road.ROADLeastRelevantFirstAverage(percentiles)(x.clone(), cams, kind, model),
                 road.ROADCombined(percentiles)(x.clone(), cams, kind, model)] for kind in kinds]
    np.save(os.path.join(OUT, "road-average.npy"), np.asarray(averages, dtype=np.float32))
    _, imputed = road.ROADMostRelevantFirst(percentile=70)(x.clone(), cams, kinds[0], model, return_visualization=True)
    np.save(os.path.join(OUT, "road-imputed.npy"), imputed.numpy().astype(np.float32))


def softmax_fixtures(model, x):
    """The network ending in Softmax and in LogSoftmax, with onnxruntime's outputs; and a
    Softmax inside a network."""
    import onnxruntime as ort
    for name, head in (("softmax", nn.Softmax(dim=1)), ("logsoftmax", nn.LogSoftmax(dim=-1))):
        path = os.path.join(OUT, f"net-{name}.onnx")
        torch.onnx.export(nn.Sequential(model, head).eval(), (x,), path, dynamo=False, opset_version=13, do_constant_folding=False,
                          training=torch.onnx.TrainingMode.EVAL, input_names=["input"], output_names=["output"])
        out = ort.InferenceSession(path).run(None, {"input": x.numpy()})[0]
        np.save(os.path.join(OUT, f"{name}.ort.npy"), out.astype(np.float32))
    torch.manual_seed(3)
    inside = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Softmax(dim=1), nn.Flatten(), nn.Linear(4 * 30 * 30, 2)).eval()
    torch.onnx.export(inside, (x,), os.path.join(OUT, "softmax-inside.onnx"), dynamo=False, opset_version=13,
                      input_names=["input"], output_names=["output"])


if __name__ == "__main__":
    main()
