import Foundation
import XCTest
@testable import ConvVizCore

/// Every case in the golden set, forward and backward, against float64 PyTorch values.
/// `CONVVIZ_GOLDEN_DIR` points at another directory of cases (the held-back set).
final class GoldenTests: XCTestCase {
    static var directory: URL {
        if let dir = ProcessInfo.processInfo.environment["CONVVIZ_GOLDEN_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return Bundle.module.resourceURL!.appendingPathComponent("Fixtures/golden")
    }

    func testEveryGoldenCase() throws {
        let files = try FileManager.default.contentsOfDirectory(at: Self.directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" && $0.lastPathComponent != "tolerance_check.json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        XCTAssertFalse(files.isEmpty, "no golden cases in \(Self.directory.path)")
        var ran = 0
        for file in files {
            let c = try GoldenCase(url: file)
            try run(c)
            ran += 1
        }
        print("golden: \(ran) cases checked from \(Self.directory.path)")
    }

    func run(_ c: GoldenCase) throws {
        var rng = SeededGenerator(seed: 0)
        switch c.op {
        case "conv2d":
            let w = c.input("weight")
            let window = Window2D(kernel: Pair(w.shape[2], w.shape[3]), stride: Pair(c.int("stride", default: 1)),
                                  padding: Pair(c.int("padding", default: 0)), dilation: Pair(c.int("dilation", default: 1)))
            XCTAssertEqual(c.int("groups", default: 1), 1, "\(c.name): grouped convolution")
            let hasBias = c.inputs["bias"] != nil
            let conv = Conv2D(name: "conv", inputChannels: w.shape[1], outputChannels: w.shape[0], window: window, bias: hasBias, rng: &rng)
            conv.weight.value = w
            if hasBias { conv.bias!.value = c.input("bias") }
            c.check("output", conv.forward(c.input("input"), mode: .training))
            c.check("grad_input", conv.backward(c.input("grad_output"), needsInputGradient: true))
            c.check("grad_weight", conv.weight.grad)
            if hasBias { c.check("grad_bias", conv.bias!.grad) }
        case "maxpool2d", "avgpool2d":
            let k = c.int("kernel_size")
            let window = Window2D(kernel: Pair(k), stride: Pair(c.int("stride", default: k)), padding: Pair(c.int("padding", default: 0)))
            let layer: Layer = c.op == "maxpool2d"
                ? MaxPool2D(name: "pool", window: window)
                : AvgPool2D(name: "pool", window: window, countIncludePad: (c.params["count_include_pad"] as? Bool) ?? true)
            c.check("output", layer.forward(c.input("input"), mode: .training))
            c.check("grad_input", layer.backward(c.input("grad_output"), needsInputGradient: true))
        case "batchnorm2d_train":
            let x = c.input("input")
            let bn = BatchNorm2D(name: "bn", channels: x.shape[1], eps: c.float("eps"), momentum: (c.params["momentum"] as? NSNumber)?.floatValue ?? 0.1)
            bn.weight.value = c.input("weight"); bn.bias.value = c.input("bias")
            bn.runningMean.value = c.input("running_mean"); bn.runningVar.value = c.input("running_var")
            c.check("output", bn.forward(x, mode: .training))
            c.check("grad_input", bn.backward(c.input("grad_output"), needsInputGradient: true))
            c.check("grad_weight", bn.weight.grad)
            c.check("grad_bias", bn.bias.grad)
            c.check("running_mean", bn.runningMean.value)
            c.check("running_var", bn.runningVar.value)
            let stats = x.data.withUnsafeBufferPointer { NormalizationKernel.statistics($0, .batch(x.shape)) }
            c.check("batch_mean", Tensor(shape: [stats.mean.count], data: stats.mean))
            c.check("batch_var", Tensor(shape: [stats.variance.count], data: stats.variance))
            c.check("output_eval", bn.forward(x, mode: .evaluation))
        case "layer_norm", "instance_norm", "group_norm":
            let x = c.input("input")
            let layer: Layer & AnyObject
            let weight: Parameter, bias: Parameter
            switch c.op {
            case "layer_norm":
                let l = LayerNorm(name: "ln", normalizedShape: Array(x.shape.dropFirst()), eps: c.float("eps")); layer = l; weight = l.weight; bias = l.bias
            case "instance_norm":
                let l = InstanceNorm(name: "in", channels: x.shape[1], eps: c.float("eps")); layer = l; weight = l.weight; bias = l.bias
            default:
                let l = GroupNorm(name: "gn", channels: x.shape[1], groups: c.int("num_groups"), eps: c.float("eps")); layer = l; weight = l.weight; bias = l.bias
            }
            weight.value = c.input("weight"); bias.value = c.input("bias")
            _ = try layer.outputShape(for: Array(x.shape.dropFirst()))
            c.check("output", layer.forward(x, mode: .training))
            c.check("grad_input", layer.backward(c.input("grad_output"), needsInputGradient: true))
            c.check("grad_weight", weight.grad)
            c.check("grad_bias", bias.grad)
        case "linear":
            let w = c.input("weight")
            let fc = Linear(name: "fc", inputFeatures: w.shape[1], outputFeatures: w.shape[0], rng: &rng)
            fc.weight.value = w; fc.bias!.value = c.input("bias")
            c.check("output", fc.forward(c.input("input"), mode: .training))
            c.check("grad_input", fc.backward(c.input("grad_output"), needsInputGradient: true))
            c.check("grad_weight", fc.weight.grad)
            c.check("grad_bias", fc.bias!.grad)
        case "relu":
            let r = ReLU(name: "relu")
            c.check("output", r.forward(c.input("input"), mode: .training))
            c.check("grad_input", r.backward(c.input("grad_output"), needsInputGradient: true))
        case "cross_entropy":
            let result = CrossEntropy.evaluate(logits: c.input("logits"), targets: c.integerInputs["target"]!)
            c.check("loss", Tensor(shape: [], data: [result.loss]))
            c.check("grad_logits", result.gradient)
            c.check("probs", result.probabilities)
        case "fold_batchnorm_conv":
            let w = c.input("conv_weight")
            let window = Window2D(kernel: Pair(w.shape[2], w.shape[3]), stride: Pair(c.int("stride", default: 1)), padding: Pair(c.int("padding", default: 0)))
            let folded = BatchNormFolding.fold(weight: w, bias: c.inputs["conv_bias"], gamma: c.input("bn_weight"), beta: c.input("bn_bias"),
                                               runningMean: c.input("bn_running_mean"), runningVar: c.input("bn_running_var"), eps: c.float("eps"))
            c.check("folded_weight", folded.weight)
            c.check("folded_bias", folded.bias)
            // The unfolded pair, conv then BN in evaluation mode, and the folded conv.
            let conv = Conv2D(name: "conv", inputChannels: w.shape[1], outputChannels: w.shape[0], window: window, rng: &rng)
            conv.weight.value = w; conv.bias!.value = c.input("conv_bias")
            let bn = BatchNorm2D(name: "bn", channels: w.shape[0], eps: c.float("eps"))
            bn.weight.value = c.input("bn_weight"); bn.bias.value = c.input("bn_bias")
            bn.runningMean.value = c.input("bn_running_mean"); bn.runningVar.value = c.input("bn_running_var")
            c.check("output", bn.forward(conv.forward(c.input("input"), mode: .evaluation), mode: .evaluation))
            conv.weight.value = folded.weight; conv.bias!.value = folded.bias
            c.check("output_folded", conv.forward(c.input("input"), mode: .evaluation))
        default:
            XCTFail("golden case \(c.name): unknown op '\(c.op)'")
        }
    }
}
