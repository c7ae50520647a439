/// One layer (node) of an `Architecture`: its type, name, inputs and settings.
///
/// Shapes, parameter counts and multiply-adds are computed here from the settings alone,
/// so that tables and figures of large networks never allocate weights; `makeLayer`
/// builds the layer that computes.
public struct LayerSpec: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        case conv, linear
        case batchnorm, layernorm, instancenorm, groupnorm
        case relu, relu6, clip, leakyrelu, sigmoid, hardsigmoid, hardswish, silu
        case maxpool, avgpool, globalavgpool, adaptiveavgpool
        case flatten, dropout, identity
        case add, mul, concat

        var namePrefix: String {
            switch self {
            case .conv: "conv"
            case .linear: "fc"
            case .batchnorm: "bn"
            case .layernorm: "ln"
            case .instancenorm: "inorm"
            case .groupnorm: "gn"
            case .maxpool: "pool"
            case .leakyrelu: "lrelu"
            case .globalavgpool: "gap"
            case .adaptiveavgpool: "adaptivepool"
            case .concat: "cat"
            default: rawValue
            }
        }

        /// Keys a layer of this kind may have besides `type`, `name` and `inputs`.
        var allowedKeys: Set<String> {
            switch self {
            case .conv: ["out", "kernel", "stride", "padding", "dilation", "groups", "bias"]
            case .linear: ["out", "bias"]
            case .maxpool: ["kernel", "stride", "padding", "ceil_mode"]
            case .avgpool: ["kernel", "stride", "padding", "ceil_mode", "count_include_pad"]
            case .adaptiveavgpool: ["output_size"]
            case .batchnorm: ["eps", "momentum"]
            case .layernorm, .instancenorm: ["eps"]
            case .groupnorm: ["groups", "eps"]
            case .clip: ["min", "max"]
            case .leakyrelu: ["negative_slope"]
            case .dropout: ["p"]
            default: []
            }
        }

        /// How many inputs a layer of this kind takes.
        var inputCount: ClosedRange<Int> {
            switch self {
            case .add, .mul: 2...2
            case .concat: 1...Int.max
            default: 1...1
            }
        }

        /// Whether a unit sees all of its input (the receptive field becomes the image).
        /// (Normalization statistics are left out, as every receptive-field calculator does.)
        var isGlobal: Bool { [.linear, .flatten, .globalavgpool].contains(self) }
    }

    public var kind: Kind
    public var name: String?
    /// The layers whose outputs this one takes; nil: the previous layer's.
    public var inputs: [String]?
    public var out: Int?
    public var kernel: Pair?
    public var stride: Pair?
    public var padding: Pair?
    public var dilation: Pair?
    public var bias: Bool?
    /// Convolution groups (depthwise when equal to the input channels), or GroupNorm's.
    public var groups: Int?
    public var eps: Float?
    public var momentum: Float?
    public var countIncludePad: Bool?
    public var ceilMode: Bool?
    /// Clip's bounds (`relu6` is clip to [0, 6]).
    public var min: Float?
    public var max: Float?
    public var negativeSlope: Float?
    /// Adaptive average pooling's output (height, width).
    public var outputSize: Pair?
    /// Dropout's probability: kept for the record, dropout is the identity at evaluation.
    public var p: Float?

    public init(_ kind: Kind, name: String? = nil, inputs: [String]? = nil, out: Int? = nil, kernel: Pair? = nil,
                stride: Pair? = nil, padding: Pair? = nil, dilation: Pair? = nil, bias: Bool? = nil, groups: Int? = nil) {
        self.kind = kind
        self.name = name
        self.inputs = inputs
        self.out = out
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.bias = bias
        self.groups = groups
    }

    /// The sliding window of a conv or pooling layer, with the documented defaults.
    public var window: Window2D? {
        switch kind {
        case .conv:
            guard let kernel else { return nil }
            return Window2D(kernel: kernel, stride: stride ?? Pair(1), padding: padding ?? Pair(0), dilation: dilation ?? Pair(1))
        case .maxpool, .avgpool:
            guard let kernel else { return nil }
            return Window2D(kernel: kernel, stride: stride ?? kernel, padding: padding ?? Pair(0), ceilMode: ceilMode ?? false)
        default:
            return nil
        }
    }

    private var label: String { name ?? kind.rawValue }

    private func need<T>(_ value: T?, _ key: String) throws -> T {
        guard let value else { throw ArchitectureError.missingKey(layer: label, key: key) }
        return value
    }

    /// Convolution groups, checked against the input and output channels.
    private func convolutionGroups(channels: Int, out: Int) throws -> Int {
        let g = groups ?? 1
        guard g >= 1, channels % g == 0, out % g == 0 else {
            throw ArchitectureError.invalidValue(layer: label, key: "groups", message: "must divide the input channels (\(channels)) and 'out' (\(out)), got \(g)")
        }
        return g
    }

    /// Per-sample output shape for the per-sample shapes of the inputs.
    public func outputShape(for inputs: [[Int]]) throws -> [Int] {
        let shape = inputs[0]
        func spatial() throws -> [Int] {
            guard shape.count == 3 else { throw ShapeError(layer: label, "expects [C, H, W] input, got \(shape)") }
            return shape
        }
        switch kind {
        case .conv:
            let s = try spatial(), out = try need(self.out, "out")
            _ = try need(kernel, "kernel")
            _ = try convolutionGroups(channels: s[0], out: out)
            let size = try window!.outputSize(height: s[1], width: s[2], layer: label)
            return [out, size.h, size.w]
        case .linear:
            guard shape.count == 1 else { throw ShapeError(layer: label, "expects a flat input, got \(shape); add a flatten layer") }
            return [try need(out, "out")]
        case .maxpool, .avgpool:
            _ = try need(kernel, "kernel")
            return try poolOutputShape(try spatial(), window: window!, layer: label)
        case .globalavgpool:
            return [try spatial()[0], 1, 1]
        case .adaptiveavgpool:
            let size = try need(outputSize, "output_size")
            return [try spatial()[0], size.h, size.w]
        case .batchnorm, .instancenorm:
            return try spatial()
        case .groupnorm:
            let s = try spatial(), g = try need(groups, "groups")
            guard s[0] % g == 0 else { throw ShapeError(layer: label, "\(s[0]) channels do not split into \(g) groups") }
            return s
        case .flatten:
            let (count, overflow) = shape.reduce((1, false)) { acc, d in let m = acc.0.multipliedReportingOverflow(by: d); return (m.partialValue, acc.1 || m.overflow) }
            guard !overflow else { throw ShapeError(layer: label, "input \(shape) is too large to flatten") }
            return [count]
        case .layernorm, .relu, .relu6, .clip, .leakyrelu, .sigmoid, .hardsigmoid, .hardswish, .silu, .dropout, .identity:
            return shape
        case .add, .mul:
            return try broadcastShape(inputs)
        case .concat:
            let s = try spatial()
            var channels = 0
            for other in inputs {
                guard other.count == 3, other[1] == s[1], other[2] == s[2] else {
                    throw ShapeError(layer: label, "concatenates channels of [C, H, W] inputs with one H x W, got \(inputs)")
                }
                // Overflow-checked: concatenations of concatenations double their channels each time.
                let (sum, overflow) = channels.addingReportingOverflow(other[0])
                guard !overflow else { throw ShapeError(layer: label, "concatenating \(inputs.map { $0[0] }) channels overflows") }
                channels = sum
            }
            return [channels, s[1], s[2]]
        }
    }

    /// Elementwise inputs must agree per dimension or be 1 there (a squeeze-excitation
    /// scale `[C, 1, 1]` multiplies a `[C, H, W]` map).
    private func broadcastShape(_ inputs: [[Int]]) throws -> [Int] {
        guard inputs.allSatisfy({ $0.count == inputs[0].count }) else {
            throw ShapeError(layer: label, "inputs of different ranks: \(inputs)")
        }
        return try (0..<inputs[0].count).map { axis in
            let sizes = Set(inputs.map { $0[axis] }).subtracting([1])
            guard sizes.count <= 1 else { throw ShapeError(layer: label, "input shapes \(inputs) do not match") }
            return sizes.first ?? 1
        }
    }

    /// Learnable parameters (running statistics are not), as PyTorch counts them.
    /// Products saturate at `Int.max`: a description can ask for absurd sizes.
    public func parameterCount(inputs: [[Int]]) -> Int {
        let shape = inputs[0]
        switch kind {
        case .conv:
            guard let out, let kernel, shape.count == 3 else { return 0 }
            let weights = Self.product([out, shape[0] / Swift.max(1, groups ?? 1), kernel.h, kernel.w])
            return Self.sum(weights, (bias ?? true) ? out : 0)
        case .linear:
            guard let out, shape.count == 1 else { return 0 }
            return Self.sum(Self.product([out, shape[0]]), (bias ?? true) ? out : 0)
        case .batchnorm, .instancenorm, .groupnorm:
            return Self.product([2, shape.first ?? 0])
        case .layernorm:
            return Self.product([2] + shape)
        default:
            return 0
        }
    }

    /// Multiply-adds of one sample's pass through a convolution or linear layer.
    public func multiplyAdds(inputs: [[Int]], output: [Int]) -> Int {
        switch kind {
        case .conv:
            guard let kernel, inputs[0].count == 3 else { return 0 }
            return Self.product(output + [inputs[0][0] / Swift.max(1, groups ?? 1), kernel.h, kernel.w])
        case .linear:
            return Self.product([inputs[0].first ?? 0] + output)
        default:
            return 0
        }
    }

    static func product(_ factors: [Int]) -> Int {
        factors.reduce(1) { acc, f in
            let (p, overflow) = acc.multipliedReportingOverflow(by: f)
            return overflow ? Int.max : p
        }
    }

    static func sum(_ a: Int, _ b: Int) -> Int {
        let (s, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : s
    }

    /// Builds the layer that computes, initialised as PyTorch does (shapes already checked).
    func makeLayer(inputShapes: [[Int]], rng: inout SeededGenerator) throws -> Operation {
        let shape = inputShapes[0]
        let name = self.name!
        switch kind {
        case .conv:
            let out = try need(self.out, "out")
            return .layer(Conv2D(name: name, inputChannels: shape[0], outputChannels: out, window: window!,
                                 groups: try convolutionGroups(channels: shape[0], out: out), bias: bias ?? true, rng: &rng))
        case .linear:
            return .layer(Linear(name: name, inputFeatures: shape[0], outputFeatures: try need(out, "out"), bias: bias ?? true, rng: &rng))
        case .maxpool: return .layer(MaxPool2D(name: name, window: window!))
        case .avgpool: return .layer(AvgPool2D(name: name, window: window!, countIncludePad: countIncludePad ?? true))
        case .globalavgpool: return .layer(AdaptiveAvgPool2D(name: name, outputSize: Pair(1)))
        case .adaptiveavgpool: return .layer(AdaptiveAvgPool2D(name: name, outputSize: try need(outputSize, "output_size")))
        case .batchnorm: return .layer(BatchNorm2D(name: name, channels: shape[0], eps: eps ?? 1e-5, momentum: momentum ?? 0.1))
        case .groupnorm: return .layer(GroupNorm(name: name, channels: shape[0], groups: try need(groups, "groups"), eps: eps ?? 1e-5))
        case .instancenorm: return .layer(InstanceNorm(name: name, channels: shape[0], eps: eps ?? 1e-5))
        case .layernorm: return .layer(LayerNorm(name: name, normalizedShape: shape, eps: eps ?? 1e-5))
        case .relu: return .layer(ReLU(name: name))
        case .flatten: return .layer(Flatten(name: name))
        case .relu6: return .layer(Pointwise(name: name, .clip(min: 0, max: 6)))
        case .clip: return .layer(Pointwise(name: name, .clip(min: min ?? -.infinity, max: max ?? .infinity)))
        case .leakyrelu: return .layer(Pointwise(name: name, .leakyReLU(slope: negativeSlope ?? 0.01)))
        case .sigmoid: return .layer(Pointwise(name: name, .sigmoid))
        case .hardsigmoid: return .layer(Pointwise(name: name, .hardSigmoid))
        case .hardswish: return .layer(Pointwise(name: name, .hardSwish))
        case .silu: return .layer(Pointwise(name: name, .silu))
        case .dropout, .identity: return .layer(Pointwise(name: name, .identity))
        case .add: return .merge(Elementwise(name: name, .add))
        case .mul: return .merge(Elementwise(name: name, .multiply))
        case .concat: return .merge(Concat(name: name))
        }
    }
}

/// A built layer: one input (`Layer`) or several (`MergeLayer`).
public enum Operation {
    case layer(Layer)
    case merge(MergeLayer)

    public var name: String {
        switch self {
        case let .layer(l): l.name
        case let .merge(m): m.name
        }
    }

    public var parameters: [Parameter] {
        switch self {
        case let .layer(l): l.parameters
        case .merge: []
        }
    }

    /// The one-input layer, for chains (`Sequential`).
    func unary(in architecture: String) throws -> Layer {
        guard case let .layer(l) = self else {
            throw ArchitectureError.invalidValue(layer: name, key: "type", message: "joins branches; '\(architecture)' cannot run as a chain")
        }
        return l
    }
}
