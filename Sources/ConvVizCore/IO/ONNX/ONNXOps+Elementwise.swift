import Foundation

/// Activations, merges, reshapes and constants (see `ONNXOps.converter(for:)`).
extension ONNXOps {
    // MARK: Activations

    /// Bounds from inputs 2 and 3 (opset 11 and up) or attributes (older): [0, 6] is relu6.
    static func clip(_ c: ONNXNodeContext) throws -> ONNXEmission {
        var low = try c.optionalFloat("min"), high = try c.optionalFloat("max")
        if let v = try c.scalar(1, "min") { low = v }
        if let v = try c.scalar(2, "max") { high = v }
        if low == -.greatestFiniteMagnitude { low = nil }  // the old attributes' defaults
        if high == .greatestFiniteMagnitude { high = nil }
        if low == 0 && high == 6 { return try one(c, LayerSpec(.relu6)) }
        var spec = LayerSpec(.clip)
        spec.min = low
        spec.max = high
        return try one(c, spec)
    }

    static func leakyRelu(_ c: ONNXNodeContext) throws -> ONNXEmission {
        var spec = LayerSpec(.leakyrelu)
        spec.negativeSlope = try c.float("alpha", default: 0.01)
        return try one(c, spec)
    }

    /// max(0, min(1, alpha x + beta)): ConvViz's (PyTorch's) has alpha 1/6, beta 1/2.
    static func hardSigmoid(_ c: ONNXNodeContext) throws -> ONNXEmission {
        let alpha = try c.float("alpha", default: 0.2), beta = try c.float("beta", default: 0.5)
        guard abs(alpha - 1.0 / 6) < 1e-6, beta == 0.5 else {
            throw c.unsupported("alpha \(alpha), beta \(beta); ConvViz's hardsigmoid has alpha 1/6 and beta 0.5, as PyTorch's")
        }
        return try one(c, LayerSpec(.hardsigmoid))
    }

    // MARK: Shapes

    static func flatten(_ c: ONNXNodeContext) throws -> ONNXEmission {
        let x = try c.computed(0)
        let axis = try c.int("axis", default: 1)
        guard c.normalizedAxis(axis, rank: c.fullRank(x.shape)) == 1 else {
            throw c.unsupported("axis \(axis); ConvViz flattens everything after the batch dimension (axis 1)")
        }
        return try one(c, LayerSpec(.flatten))
    }

    /// A reshape to [N, -1] or [N, C*H*W] (N the batch: -1, 0, 1 or the input's) is a flatten.
    static func reshape(_ c: ONNXNodeContext) throws -> ONNXEmission {
        let x = try c.computed(0)
        let target = try c.integerConstant(1, "shape")
        guard let total = checkedProduct(x.shape) else { throw c.error("input \(x.shape) is too large") }
        let allowZero = try c.int("allowzero", default: 0) != 0
        let batchSizes: Set<Int64> = allowZero ? [1, -1] : [0, 1, -1]
        let isFlatten = target.count == 2
            && (target[1] == -1 || target[1] == Int64(total))
            && (batchSizes.contains(target[0]) || c.batch.map { Int64($0) } == target[0])
            && !(target[0] == -1 && target[1] == -1)
            && (target[0] != -1 || target[1] == Int64(total))
        guard isFlatten else {
            throw c.unsupported("a reshape of [N, \(x.shape.map(String.init).joined(separator: ", "))] to \(target); ConvViz imports a Reshape only as a flatten to [N, -1]")
        }
        return try one(c, LayerSpec(.flatten))
    }

    static func dropout(_ c: ONNXNodeContext) throws -> ONNXEmission {
        var spec = LayerSpec(.dropout)
        spec.p = try c.scalar(1, "ratio") ?? c.float("ratio", default: 0.5)
        return try one(c, spec)
    }

    /// Softmax or LogSoftmax over the classes as the graph's last node (read by nothing
    /// else): left out, so that the network's output is the logits (see `ONNXImport`).
    /// Anywhere else ConvViz has no softmax layer.
    static func finalSoftmax(_ c: ONNXNodeContext) throws -> ONNXEmission {
        let x = try c.computed(0)
        guard let out = c.node.outputs.first, out == c.graphOutput, c.consumers[out] == 1 else {
            throw c.unsupported("only as the graph's last operation, over the classes: ConvViz then works on the logits before it")
        }
        // Per-sample [K]: over the batch's [N, K], axis 1 or -1 (opset 13's default -1;
        // before 13 the default 1 flattens [N, K] to itself).
        guard x.shape.count == 1 else {
            throw c.unsupported("over an input of shape \(x.shape); ConvViz leaves out a final \(c.node.opType) over flat class scores [K] only")
        }
        let axis = try c.int("axis", default: c.opset >= 13 ? -1 : 1)
        guard axis == 1 || axis == -1 else { throw c.unsupported("axis \(axis) of a [N, \(x.shape[0])] input; ConvViz takes the classes' axis (1 or -1)") }
        return .finalNormalization(layer: x.layer)
    }

    static func identity(_ c: ONNXNodeContext) throws -> ONNXEmission {
        if let value = c.constant(0) { return .constant(value) }
        return try one(c, LayerSpec(.identity))
    }

    // MARK: Merges

    /// Add or Mul of two computed values. An Add of a constant to a bias-free linear layer
    /// made from MatMul (read by nothing else) becomes that layer's bias.
    static func merge(_ c: ONNXNodeContext, _ kind: LayerSpec.Kind) throws -> ONNXEmission {
        guard c.node.inputs.count == 2, c.hasInput(0), c.hasInput(1) else { throw c.error("expects two inputs") }
        if let k = [0, 1].first(where: { c.isConstant($0) }) {
            let other = 1 - k
            if kind == .add, !c.isConstant(other), let layer = c.values[c.node.inputs[other]], c.matMulLinears.contains(layer),
               c.consumers[c.node.inputs[other]] == 1, let i = c.layerIndex[layer], let out = c.layers[i].out {
                return .bias(layer: layer, try linearBias(c, k, out: out))
            }
            throw c.unsupported("a constant operand '\(c.node.inputs[k])'")
        }
        let a = try c.computed(0), b = try c.computed(1)
        return .layers([ONNXNewLayer(LayerSpec(kind, inputs: [a.layer, b.layer]))])
    }

    /// Concat along channels; a Concat of integer constants along axis 0 is folded.
    static func concat(_ c: ONNXNodeContext) throws -> ONNXEmission {
        guard let axis = try c.ints("axis")?.first else { throw c.error("no axis") }
        let indices = Array(c.node.inputs.indices)
        if !indices.isEmpty, indices.allSatisfy({ c.constant($0)?.integers != nil && c.constant($0)?.shape.count == 1 }), axis == 0 || axis == -1 {
            let joined = indices.flatMap { c.constant($0)?.integers ?? [] }
            return .constant(ONNXTensor(name: c.node.outputs.first ?? "", integers: joined))
        }
        let inputs = try indices.map { try c.computed($0) }
        guard let first = inputs.first, c.normalizedAxis(axis, rank: c.fullRank(first.shape)) == 1 else {
            throw c.unsupported("axis \(axis); ConvViz concatenates channels (axis 1)")
        }
        return .layers([ONNXNewLayer(LayerSpec(.concat, inputs: inputs.map(\.layer)))])
    }

    // MARK: Constants

    static func constant(_ c: ONNXNodeContext) throws -> ONNXEmission {
        let name = c.node.outputs.first ?? c.node.name
        switch c.node.attributes["value"] {
        case let .tensor(t)?:
            return .constant(t)
        case nil:
            break
        case let a?:
            throw c.unsupported("a value of \(a.typeName)")
        }
        if case let .float(v)? = c.node.attributes["value_float"] { return .constant(ONNXTensor(name: name, Tensor(shape: [], data: [v]))) }
        if case let .floats(v)? = c.node.attributes["value_floats"] { return .constant(ONNXTensor(name: name, Tensor(shape: [v.count], data: v))) }
        if case let .int(v)? = c.node.attributes["value_int"] { return .constant(ONNXTensor(name: name, integers: [v], shape: [])) }
        if case let .ints(v)? = c.node.attributes["value_ints"] { return .constant(ONNXTensor(name: name, integers: v)) }
        throw c.unsupported("a value that is not a number or a tensor of numbers")
    }
}

extension ONNXFile.Attribute {
    /// What kind of value, for messages.
    var typeName: String {
        switch self {
        case .int: "an integer"
        case .float: "a number"
        case .ints: "a list of integers"
        case .floats: "a list of numbers"
        case .string: "a string"
        case let .tensor(t): "a \(t.elementType.rawValue) tensor"
        case let .other(kind): kind
        }
    }
}
