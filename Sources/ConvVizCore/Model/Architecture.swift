import Foundation

/// A network described as a directed acyclic graph of named layers, the one format behind
/// training, shape tables, receptive fields and evaluation of other people's models:
///
///     {"name": "small", "input": [1, 28, 28], "layers": [
///        {"type": "conv", "name": "conv1", "out": 32, "kernel": 5, "padding": 2},
///        {"type": "batchnorm"}, {"type": "relu"}, {"type": "maxpool", "kernel": 2},
///        {"type": "flatten"}, {"type": "linear", "out": 10}]}
///
/// A layer without `inputs` takes the previous layer's output (the first layer takes the
/// network's input, called `input`), so a chain needs no wiring; a residual block names
/// its branches: `{"type": "add", "inputs": ["bn2", "downsample.1"]}`. Layers are listed
/// so that every input is defined before it is used; the last layer is the output.
/// `docs/architecture-format.md` lists every type and key.
public struct Architecture: Equatable, Sendable {
    /// The name a layer uses to take the network's input.
    public static let inputName = "input"

    public var name: String
    /// Per-sample input shape `[C, H, W]`.
    public var input: [Int]
    public var layers: [LayerSpec]
    /// Other names of layers (an ONNX node's name and its output value's name), so that a
    /// user can name a layer as their framework shows it.
    public var aliases: [String: String]

    public init(name: String, input: [Int], layers: [LayerSpec], aliases: [String: String] = [:]) {
        self.name = name
        self.input = input
        self.layers = layers
        self.aliases = aliases
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
                // A prefix ending in a digit (relu6) takes an underscore: relu6_1, not relu61.
                let prefix = kind.namePrefix, separator = prefix.last!.isNumber ? "_" : ""
                layers[i].name = (kind == .linear && linearCount == 1) ? prefix : "\(prefix)\(separator)\(n)"
            }
        }
    }

    /// The names of the layers whose outputs layer `index` takes (`input` for the network's).
    public func inputs(of index: Int) -> [String] {
        if let names = layers[index].inputs { return names }
        return [index == 0 ? Self.inputName : layers[index - 1].name!]
    }

    /// Whether every layer takes exactly the previous layer's output: a `Sequential` model,
    /// which is what training runs.
    public var isChain: Bool {
        layers.indices.allSatisfy { i in
            let names = inputs(of: i)
            return names.count == 1 && names[0] == (i == 0 ? Self.inputName : layers[i - 1].name!)
        }
    }

    /// The position of the layer called `name` or known by that alias.
    public func index(ofLayer name: String) -> Int? {
        if let own = layers.firstIndex(where: { $0.name == name }) { return own }
        guard let resolved = aliases[name] else { return nil }
        return layers.firstIndex { $0.name == resolved }
    }

    /// Checks names and wiring: unique names, inputs defined before use, the right number
    /// of inputs per type. Returns, per layer, the indices of its inputs (-1: the network's
    /// input).
    public func wiring() throws -> [[Int]] {
        var position: [String: Int] = [Self.inputName: -1]
        var result: [[Int]] = []
        for (i, spec) in layers.enumerated() {
            let name = spec.name!
            guard name != Self.inputName else { throw ArchitectureError.invalidValue(layer: name, key: "name", message: "'input' names the network's input") }
            let sources = try inputs(of: i).map { source in
                guard let p = position[source] else {
                    throw ArchitectureError.invalidValue(layer: name, key: "inputs", message: "names '\(source)', which is not a layer defined before it")
                }
                return p
            }
            let arity = spec.kind.inputCount
            guard arity.contains(sources.count) else {
                throw ArchitectureError.invalidValue(layer: name, key: "inputs", message: "a \(spec.kind.rawValue) layer takes \(arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) or more") inputs, got \(sources.count)")
            }
            guard position.updateValue(i, forKey: name) == nil else { throw ArchitectureError.duplicateName(name) }
            result.append(sources)
        }
        guard !layers.isEmpty else { throw ArchitectureError.notJSON("an architecture needs at least one layer") }
        return result
    }

    /// Per-sample output shape of each layer, checking the whole graph without building
    /// any weights (a layer a billion wide costs nothing here).
    public func shapes() throws -> [[Int]] {
        let wiring = try wiring()
        var shapes: [[Int]] = []
        for (i, spec) in layers.enumerated() {
            let inputShapes = wiring[i].map { $0 < 0 ? input : shapes[$0] }
            shapes.append(try spec.outputShape(for: inputShapes))
        }
        return shapes
    }

    /// Builds a trainable chain with PyTorch's default initialisation from `seed`.
    public func makeModel(seed: UInt64) throws -> Sequential {
        guard isChain else {
            throw ArchitectureError.notJSON("'\(name)' is a graph with branches; training runs chains of layers only (evaluation, shapes and figures take any graph)")
        }
        let shapes = try shapes()
        try checkParameterBudget()
        var rng = SeededGenerator(seed: seed)
        let built = try layers.enumerated().map { i, spec in
            try spec.makeLayer(inputShapes: [i == 0 ? input : shapes[i - 1]], rng: &rng).unary(in: name)
        }
        return try Sequential(inputShape: input, layers: built)
    }

    /// Builds the graph for evaluation (and input gradients), initialised from `seed`
    /// as `makeModel` does; load trained weights with `Graph.load`.
    public func makeGraph(seed: UInt64 = 0) throws -> Graph {
        try Graph(self, seed: seed)
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

extension Architecture {
    /// The part of the network that layer `last` depends on, with another input size
    /// when given: a fully convolutional prefix runs at a photo's own size even when the
    /// layers after it (a flatten and a classifier) need the training size.
    public func prefix(through last: Int, input newInput: [Int]? = nil) -> Architecture {
        let needed = (try? wiring()).map { Wiring.ancestors(of: last, in: $0) } ?? [last]
        var kept: [LayerSpec] = []
        for i in 0...last where needed.contains(i) {
            var spec = layers[i]
            spec.inputs = inputs(of: i)   // explicit: dropping layers must not rewire a chain
            kept.append(spec)
        }
        let names = Set(kept.map { $0.name! })
        return Architecture(name: name, input: newInput ?? input, layers: kept, aliases: aliases.filter { names.contains($0.value) })
    }
}
