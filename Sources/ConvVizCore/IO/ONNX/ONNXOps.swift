import Foundation

/// The ONNX operations ConvViz imports: one switch from op type to a conversion function,
/// each a function of the node alone (with what was imported before it).
///
/// This file: the switch, and the layers with weights and windows (Conv, Gemm, MatMul,
/// the normalizations, pooling). `ONNXOps+Elementwise.swift`: activations, merges,
/// reshapes and constants.
enum ONNXOps {
    typealias Convert = (ONNXNodeContext) throws -> ONNXEmission

    /// The conversion for an op type of the default domain; nil: ConvViz does not run it.
    static func converter(for opType: String) -> Convert? {
        switch opType {
        case "Conv": conv
        case "Gemm": gemm
        case "MatMul": matMul
        case "BatchNormalization": batchNormalization
        case "InstanceNormalization": instanceNormalization
        case "MaxPool": maxPool
        case "AveragePool": averagePool
        case "GlobalAveragePool": { c in try one(c, LayerSpec(.globalavgpool)) }
        case "ReduceMean": reduceMean
        case "Relu": { c in try one(c, LayerSpec(.relu)) }
        case "Clip": clip
        case "LeakyRelu": leakyRelu
        case "Sigmoid": { c in try one(c, LayerSpec(.sigmoid)) }
        case "HardSigmoid": hardSigmoid
        case "HardSwish": { c in try one(c, LayerSpec(.hardswish)) }
        case "Flatten": flatten
        case "Reshape": reshape
        case "Dropout": dropout
        case "Identity": identity
        case "Add": { c in try merge(c, .add) }
        case "Mul": { c in try merge(c, .mul) }
        case "Concat": concat
        case "Constant": constant
        case "Softmax", "LogSoftmax": finalSoftmax
        default: nil
        }
    }

    /// A one-input layer on the node's first input.
    static func one(_ c: ONNXNodeContext, _ spec: LayerSpec, parameters: [(String, Tensor)] = [], weightName: String? = nil) throws -> ONNXEmission {
        var spec = spec
        spec.inputs = [try c.computed(0).layer]
        return .layers([ONNXNewLayer(spec, parameters: parameters, weightName: weightName)])
    }

    // MARK: Convolution

    static func conv(_ c: ONNXNodeContext) throws -> ONNXEmission {
        let x = try c.computed(0)
        let (w, wName) = try c.floatConstant(1, "weight")
        guard w.rank == 4 else { throw c.unsupported("weight '\(wName)' has shape \(w.shape); ConvViz runs 2-D convolutions") }
        guard x.shape.count == 3 else { throw c.error("input has shape \(x.shape); expected [C, H, W]") }
        let groups = try c.int("group", default: 1)
        guard groups >= 1, groups <= x.shape[0], w.shape[0] % groups == 0, w.shape[1] * groups == x.shape[0] else {
            throw c.error("weight \(w.shape) with group \(groups) does not fit \(x.shape[0]) input channels")
        }
        let kernel = Pair(w.shape[2], w.shape[3])
        if let k = try c.ints("kernel_shape"), k != [kernel.h, kernel.w] {
            throw c.error("kernel_shape \(k) disagrees with the weight's shape \(w.shape)")
        }
        let window = try ONNXWindow(c, kernel: kernel, input: x.shape, allowsDilation: true)
        var spec = LayerSpec(.conv, inputs: [x.layer], out: w.shape[0], kernel: kernel, stride: window.stride,
                             padding: window.padding, dilation: window.dilation, groups: groups)
        var parameters = [("weight", w)]
        if c.hasInput(2) {
            let (b, bName) = try c.floatConstant(2, "bias")
            guard b.count == w.shape[0] else { throw c.error("bias '\(bName)' has shape \(b.shape); expected [\(w.shape[0])]") }
            parameters.append(("bias", b.reshaped([b.count])))
            spec.bias = true
        } else {
            spec.bias = false
        }
        return .layers([ONNXNewLayer(spec, parameters: parameters, weightName: wName)])
    }

    // MARK: Linear

    /// Y = A B' + C with A the flat input: a linear layer, weight [out, in] as PyTorch's.
    static func gemm(_ c: ONNXNodeContext) throws -> ONNXEmission {
        let x = try c.computed(0)
        guard try c.int("transA", default: 0) == 0 else { throw c.unsupported("transA=1") }
        let alpha = try c.float("alpha", default: 1), beta = try c.float("beta", default: 1)
        guard alpha == 1 else { throw c.unsupported("alpha \(alpha); ConvViz imports alpha=1") }
        let (b, bName) = try c.floatConstant(1, "weight", rank: 2)
        let weight = try c.int("transB", default: 0) == 1 ? b : transposed(b)
        var bias: Tensor?
        if c.hasInput(2) {
            guard beta == 1 else { throw c.unsupported("beta \(beta); ConvViz imports beta=1") }
            bias = try linearBias(c, 2, out: weight.shape[0])
        }
        return try linear(c, input: x, weight: weight, bias: bias, weightName: bName)
    }

    /// Y = A B with a constant B [in, out]: a bias-free linear layer (weight B'), which an
    /// Add of a constant right after gives its bias.
    static func matMul(_ c: ONNXNodeContext) throws -> ONNXEmission {
        let x = try c.computed(0)
        guard c.isConstant(1) else { throw c.unsupported("a product of two computed values") }
        let (b, bName) = try c.floatConstant(1, "weight", rank: 2)
        var emission = try linear(c, input: x, weight: transposed(b), bias: nil, weightName: bName)
        if case var .layers(new) = emission { new[0].fromMatMul = true; emission = .layers(new) }
        return emission
    }

    static func linear(_ c: ONNXNodeContext, input x: (layer: String, shape: [Int]), weight: Tensor, bias: Tensor?, weightName: String) throws -> ONNXEmission {
        guard x.shape.count == 1 else { throw c.error("input has shape \(x.shape); a linear layer takes a flat input (Flatten first)") }
        guard weight.shape[1] == x.shape[0] else {
            throw c.error("weight '\(weightName)' maps \(weight.shape[1]) features; the input has \(x.shape[0])")
        }
        var parameters = [("weight", weight)]
        if let bias { parameters.append(("bias", bias)) }
        let spec = LayerSpec(.linear, inputs: [x.layer], out: weight.shape[0], bias: bias != nil)
        return .layers([ONNXNewLayer(spec, parameters: parameters, weightName: weightName)])
    }

    /// A bias of `out` values ([out], [1, out], or one value for all).
    static func linearBias(_ c: ONNXNodeContext, _ i: Int, out: Int) throws -> Tensor {
        let (t, name) = try c.floatConstant(i, "bias")
        if t.count == out { return t.reshaped([out]) }
        if t.count == 1 { return Tensor(shape: [out], repeating: t.data[0]) }
        throw c.error("bias '\(name)' has shape \(t.shape); expected [\(out)]")
    }

    /// [rows, columns] -> [columns, rows].
    static func transposed(_ t: Tensor) -> Tensor {
        let (rows, columns) = (t.shape[0], t.shape[1])
        var out = [Float](repeating: 0, count: t.count)
        t.data.withUnsafeBufferPointer { src in
            for r in 0..<rows { for col in 0..<columns { out[col * rows + r] = src[r * columns + col] } }
        }
        return Tensor(shape: [columns, rows], data: out)
    }

    // MARK: Normalization

    /// Inputs X, scale, B, mean, var -> `weight`, `bias`, `running_mean`, `running_var`.
    static func batchNormalization(_ c: ONNXNodeContext) throws -> ONNXEmission {
        let x = try c.computed(0)
        guard x.shape.count == 3 else { throw c.error("input has shape \(x.shape); ConvViz normalizes [C, H, W] maps") }
        guard try c.int("training_mode", default: 0) == 0 else { throw c.unsupported("training_mode=1") }
        let channels = x.shape[0]
        var parameters: [(String, Tensor)] = []
        var scaleName = ""
        for (i, local, what) in [(1, "weight", "scale"), (2, "bias", "bias"), (3, "running_mean", "mean"), (4, "running_var", "variance")] {
            let (t, name) = try c.floatConstant(i, what)
            guard t.count == channels else { throw c.error("\(what) '\(name)' has shape \(t.shape); expected [\(channels)]") }
            parameters.append((local, t.reshaped([channels])))
            if i == 1 { scaleName = name }
        }
        var spec = LayerSpec(.batchnorm)
        spec.eps = try c.float("epsilon", default: 1e-5)
        // ONNX's momentum weighs the running value; PyTorch's weighs the new batch.
        if let m = try c.optionalFloat("momentum") { spec.momentum = 1 - m }
        return try one(c, spec, parameters: parameters, weightName: scaleName)
    }

    /// Inputs X, scale, B -> `weight`, `bias`.
    static func instanceNormalization(_ c: ONNXNodeContext) throws -> ONNXEmission {
        let x = try c.computed(0)
        guard x.shape.count == 3 else { throw c.error("input has shape \(x.shape); ConvViz normalizes [C, H, W] maps") }
        let channels = x.shape[0]
        var parameters: [(String, Tensor)] = []
        for (i, local, what) in [(1, "weight", "scale"), (2, "bias", "bias")] {
            let (t, name) = try c.floatConstant(i, what)
            guard t.count == channels else { throw c.error("\(what) '\(name)' has shape \(t.shape); expected [\(channels)]") }
            parameters.append((local, t.reshaped([channels])))
        }
        var spec = LayerSpec(.instancenorm)
        spec.eps = try c.float("epsilon", default: 1e-5)
        return try one(c, spec, parameters: parameters, weightName: c.node.inputs[1])
    }

    // MARK: Pooling

    static func maxPool(_ c: ONNXNodeContext) throws -> ONNXEmission {
        let x = try c.computed(0)
        if c.node.outputs.count > 1, !c.node.outputs[1].isEmpty, (c.consumers[c.node.outputs[1]] ?? 0) > 0 {
            throw c.unsupported("its Indices output is used")
        }
        guard try c.int("storage_order", default: 0) == 0 else { throw c.unsupported("storage_order=1") }
        return .layers([ONNXNewLayer(try pool(c, .maxpool, input: x))])
    }

    static func averagePool(_ c: ONNXNodeContext) throws -> ONNXEmission {
        let x = try c.computed(0)
        var spec = try pool(c, .avgpool, input: x)
        spec.countIncludePad = try c.int("count_include_pad", default: 0) != 0
        return .layers([ONNXNewLayer(spec)])
    }

    static func pool(_ c: ONNXNodeContext, _ kind: LayerSpec.Kind, input x: (layer: String, shape: [Int])) throws -> LayerSpec {
        guard x.shape.count == 3 else { throw c.error("input has shape \(x.shape); expected [C, H, W]") }
        guard let k = try c.ints("kernel_shape") else { throw c.error("no kernel_shape") }
        guard k.count == 2 else { throw c.unsupported("kernel_shape \(k); ConvViz pools over 2-D maps") }
        let window = try ONNXWindow(c, kernel: Pair(k[0], k[1]), input: x.shape, allowsDilation: false)
        var spec = LayerSpec(kind, inputs: [x.layer], kernel: Pair(k[0], k[1]), stride: window.stride, padding: window.padding)
        spec.ceilMode = try c.int("ceil_mode", default: 0) != 0
        return spec
    }

    /// ReduceMean over H and W: global average pooling (then a flatten if keepdims=0).
    static func reduceMean(_ c: ONNXNodeContext) throws -> ONNXEmission {
        let x = try c.computed(0)
        guard x.shape.count == 3 else { throw c.unsupported("a mean of a \(x.shape) value; ConvViz averages [C, H, W] maps over H and W") }
        let axes: [Int]
        if let a = try c.ints("axes") { axes = a } else if c.hasInput(1) { axes = try c.integerConstant(1, "axes").map { Int(clamping: $0) } } else { axes = [] }
        let normalized = Set(axes.compactMap { c.normalizedAxis($0, rank: 4) })
        guard normalized == [2, 3], axes.count == 2 else { throw c.unsupported("a mean over axes \(axes); ConvViz averages over [2, 3]") }
        let pool = LayerSpec(.globalavgpool, inputs: [x.layer])
        if try c.int("keepdims", default: 1) != 0 { return .layers([ONNXNewLayer(pool)]) }
        return .layers([ONNXNewLayer(pool, nameSuffix: "/pool"), ONNXNewLayer(LayerSpec(.flatten))])
    }
}

/// A convolution's or pooling's stride, padding and dilation from the ONNX attributes:
/// `pads` must be symmetric, and `auto_pad` SAME only where it pads symmetrically.
struct ONNXWindow {
    var stride: Pair, padding: Pair, dilation: Pair

    /// Attribute values are bounded so no window arithmetic can overflow.
    static let largest = 1 << 20

    init(_ c: ONNXNodeContext, kernel: Pair, input: [Int], allowsDilation: Bool) throws {
        func pair(_ key: String, _ fallback: Int, minimum: Int) throws -> Pair {
            guard let v = try c.ints(key) else { return Pair(fallback) }
            guard v.count == 2 else { throw c.unsupported("\(key) \(v); ConvViz runs 2-D windows") }
            guard v.allSatisfy({ (minimum...ONNXWindow.largest).contains($0) }) else { throw c.error("\(key) \(v) out of range") }
            return Pair(v[0], v[1])
        }
        guard (1...Self.largest).contains(kernel.h), (1...Self.largest).contains(kernel.w) else {
            throw c.error("kernel \(kernel.h)x\(kernel.w) out of range")
        }
        stride = try pair("strides", 1, minimum: 1)
        dilation = try pair("dilations", 1, minimum: 1)
        if !allowsDilation, dilation != Pair(1) { throw c.unsupported("dilations [\(dilation.h), \(dilation.w)]; ConvViz pools with dilation 1") }
        let autoPad = try c.string("auto_pad", default: "NOTSET")
        switch autoPad {
        case "NOTSET", "":
            let pads = try c.ints("pads") ?? [0, 0, 0, 0]
            guard pads.count == 4, pads.allSatisfy({ (0...Self.largest).contains($0) }) else {
                throw c.unsupported("pads \(pads); ConvViz pads 2-D maps by [top, left, bottom, right] >= 0")
            }
            guard pads[0] == pads[2], pads[1] == pads[3] else {
                throw c.unsupported("asymmetric pads \(pads); ConvViz pads the same on both sides ([t, l, b, r] with t == b and l == r)")
            }
            padding = Pair(pads[0], pads[1])
        case "VALID":
            padding = Pair(0)
        case "SAME_UPPER", "SAME_LOWER":
            // Output ceil(in / stride); total padding (out - 1) * stride + extent - in.
            var p = [0, 0]
            for (axis, (size, k, s, d)) in [(input[1], kernel.h, stride.h, dilation.h), (input[2], kernel.w, stride.w, dilation.w)].enumerated() {
                let out = (size + s - 1) / s
                let total = Swift.max(0, (out - 1) * s + (k - 1) * d + 1 - size)
                guard total % 2 == 0 else {
                    throw c.unsupported("auto_pad \(autoPad) pads the \(axis == 0 ? "height" : "width") of \(input[1])x\(input[2]) unevenly; export with explicit symmetric padding")
                }
                p[axis] = total / 2
            }
            padding = Pair(p[0], p[1])
        default:
            throw c.error("unknown auto_pad '\(autoPad)'")
        }
    }
}
