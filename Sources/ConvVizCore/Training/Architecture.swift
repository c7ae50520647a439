import Foundation

/// A network described in JSON, the one format behind training, shape tables and
/// receptive-field figures:
///
///     {"name": "small", "input": [1, 28, 28], "layers": [
///        {"type": "conv", "name": "conv1", "out": 32, "kernel": 5, "padding": 2},
///        {"type": "batchnorm"}, {"type": "relu"}, {"type": "maxpool", "kernel": 2},
///        {"type": "flatten"}, {"type": "linear", "out": 10}]}
///
/// `kernel`, `stride`, `padding`, `dilation` take an integer or `[h, w]`. Defaults: conv
/// stride 1, pool stride = kernel, padding 0, dilation 1, bias true. Unnamed layers get
/// PyTorch-like names (`conv1`, `bn1`, `fc`).
public struct Architecture: Equatable, Sendable {
    public var name: String
    public var input: [Int]
    public var layers: [LayerSpec]

    public init(name: String, input: [Int], layers: [LayerSpec]) {
        self.name = name
        self.input = input
        self.layers = layers
        assignDefaultNames()
    }

    /// Gives every unnamed layer a name: `conv1`, `conv2`, `bn1`, ...; a single linear
    /// layer is `fc`, several are `fc1`, `fc2`, ...
    private mutating func assignDefaultNames() {
        var counts: [LayerSpec.Kind: Int] = [:]
        let linearCount = layers.filter { $0.kind == .linear }.count
        for i in layers.indices {
            let kind = layers[i].kind
            counts[kind, default: 0] += 1
            if layers[i].name == nil {
                let n = counts[kind]!
                layers[i].name = (kind == .linear && linearCount == 1) ? kind.namePrefix : "\(kind.namePrefix)\(n)"
            }
        }
    }

    /// Per-sample output shape of each layer, checking the whole chain.
    public func shapes() throws -> [[Int]] {
        try makeModel(seed: 0).layerShapes
    }

    /// Builds the model with PyTorch's default initialisation from `seed`.
    public func makeModel(seed: UInt64) throws -> Sequential {
        var rng = SeededGenerator(seed: seed)
        var shape = input
        var built: [Layer] = []
        var seen = Set<String>()
        for spec in layers {
            let name = spec.name!
            guard seen.insert(name).inserted else { throw ArchitectureError.duplicateName(name) }
            let layer = try spec.makeLayer(inputShape: shape, rng: &rng)
            shape = try layer.outputShape(for: shape)
            built.append(layer)
        }
        return try Sequential(inputShape: input, layers: built)
    }
}

/// One layer of an `Architecture`.
public struct LayerSpec: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        case conv, batchnorm, relu, maxpool, avgpool, layernorm, instancenorm, groupnorm, flatten, linear

        var namePrefix: String {
            switch self {
            case .conv: "conv"
            case .batchnorm: "bn"
            case .relu: "relu"
            case .maxpool: "pool"
            case .avgpool: "avgpool"
            case .layernorm: "ln"
            case .instancenorm: "inorm"
            case .groupnorm: "gn"
            case .flatten: "flatten"
            case .linear: "fc"
            }
        }

        /// Keys a layer of this kind may have besides `type` and `name`.
        var allowedKeys: Set<String> {
            switch self {
            case .conv: ["out", "kernel", "stride", "padding", "dilation", "bias"]
            case .linear: ["out", "bias"]
            case .maxpool: ["kernel", "stride", "padding"]
            case .avgpool: ["kernel", "stride", "padding", "count_include_pad"]
            case .batchnorm: ["eps", "momentum"]
            case .layernorm, .instancenorm: ["eps"]
            case .groupnorm: ["groups", "eps"]
            case .relu, .flatten: []
            }
        }
    }

    public var kind: Kind
    public var name: String?
    public var out: Int?
    public var kernel: Pair?
    public var stride: Pair?
    public var padding: Pair?
    public var dilation: Pair?
    public var bias: Bool?
    public var groups: Int?
    public var eps: Float?
    public var momentum: Float?
    public var countIncludePad: Bool?

    public init(_ kind: Kind, name: String? = nil, out: Int? = nil, kernel: Pair? = nil, stride: Pair? = nil,
                padding: Pair? = nil, dilation: Pair? = nil, bias: Bool? = nil, groups: Int? = nil) {
        self.kind = kind
        self.name = name
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
            return Window2D(kernel: kernel, stride: stride ?? kernel, padding: padding ?? Pair(0))
        default:
            return nil
        }
    }

    func makeLayer(inputShape shape: [Int], rng: inout SeededGenerator) throws -> Layer {
        let name = self.name!
        func need<T>(_ value: T?, _ key: String) throws -> T {
            guard let value else { throw ArchitectureError.missingKey(layer: name, key: key) }
            return value
        }
        func channels() throws -> Int {
            guard shape.count == 3 else { throw ShapeError(layer: name, "expects [C, H, W] input, got \(shape)") }
            return shape[0]
        }
        switch kind {
        case .conv:
            _ = try need(kernel, "kernel")
            let out = try need(self.out, "out")
            guard out >= 1 else { throw ArchitectureError.invalidValue(layer: name, key: "out", message: "must be >= 1") }
            return Conv2D(name: name, inputChannels: try channels(), outputChannels: out, window: window!,
                          bias: bias ?? true, rng: &rng)
        case .linear:
            let out = try need(self.out, "out")
            guard out >= 1 else { throw ArchitectureError.invalidValue(layer: name, key: "out", message: "must be >= 1") }
            guard shape.count == 1 else { throw ShapeError(layer: name, "expects a flat input, got \(shape); add a flatten layer") }
            return Linear(name: name, inputFeatures: shape[0], outputFeatures: out, bias: bias ?? true, rng: &rng)
        case .maxpool:
            _ = try need(kernel, "kernel")
            return MaxPool2D(name: name, window: window!)
        case .avgpool:
            _ = try need(kernel, "kernel")
            return AvgPool2D(name: name, window: window!, countIncludePad: countIncludePad ?? true)
        case .batchnorm:
            return BatchNorm2D(name: name, channels: try channels(), eps: eps ?? 1e-5, momentum: momentum ?? 0.1)
        case .groupnorm:
            return GroupNorm(name: name, channels: try channels(), groups: try need(groups, "groups"), eps: eps ?? 1e-5)
        case .instancenorm:
            return InstanceNorm(name: name, channels: try channels(), eps: eps ?? 1e-5)
        case .layernorm:
            return LayerNorm(name: name, normalizedShape: shape, eps: eps ?? 1e-5)
        case .relu:
            return ReLU(name: name)
        case .flatten:
            return Flatten(name: name)
        }
    }
}

/// What is wrong with an architecture description; every case names the layer.
public enum ArchitectureError: Error, CustomStringConvertible, Equatable {
    case notJSON(String)
    case missingKey(layer: String, key: String)
    case unknownType(layer: String, type: String)
    case unknownKey(layer: String, key: String)
    case invalidValue(layer: String, key: String, message: String)
    case duplicateName(String)

    public var description: String {
        switch self {
        case let .notJSON(m): return "not a valid architecture: \(m)"
        case let .missingKey(layer, key): return "layer '\(layer)': missing key '\(key)'"
        case let .unknownType(layer, type):
            return "layer '\(layer)': unknown type '\(type)' (known: \(LayerSpec.Kind.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .unknownKey(layer, key): return "layer '\(layer)': unknown key '\(key)'"
        case let .invalidValue(layer, key, message): return "layer '\(layer)': '\(key)' \(message)"
        case let .duplicateName(n): return "two layers are named '\(n)'"
        }
    }
}
