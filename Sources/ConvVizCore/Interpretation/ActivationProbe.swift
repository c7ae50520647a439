import Foundation

/// A model's prefix through one layer, ready to run on a photo or an array: the pipeline
/// every "look inside" command shares (activation maps, attribution, feature
/// visualization, top patches). It resolves the layer by name, prepares the input the
/// way the model expects, refuses sizes the prefix cannot run at, bounds the memory its
/// activations take before anything runs, and builds the prefix graph once.
///
/// Values and gradients come from the graph (`Graph.forward(_:mode:through:keep:)`,
/// `Graph.inputGradient`): `graph(input:seed:)` is the prefix at the size fed.
public struct ActivationProbe {
    public let source: ModelSource
    /// The layer's index in `source.architecture`.
    public let layer: Int
    /// The layer's name as the architecture gives it (an alias resolves to it).
    public var layerName: String { source.architecture.layers[layer].name ?? "layer \(layer)" }

    /// Most values the prefix's layers may output for one run (every layer's output for
    /// the whole batch, summed): `ReadLimits.maxElements`, 2^30 floats (4 GiB), as for a
    /// tensor read from a file. A photo of allowed size (`ReadLimits.maxPixels`) can still
    /// ask a wide network for far more than that.
    public static let defaultMaxActivationElements = ReadLimits.default.maxElements
    public var maxActivationElements = ActivationProbe.defaultMaxActivationElements

    /// Why a probe cannot run as asked; each says what to change.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case noSuchLayer(name: String, model: String, listing: String)
        /// A flatten or linear layer before the probed one fixes the input size.
        case fixedInputSize(fed: String, fixingLayer: String, kind: String, probed: String, trained: String)
        case tooManyActivations(model: String, input: [Int], elements: Int, limit: Int)

        public var description: String {
            switch self {
            case let .noSuchLayer(name, model, listing):
                return "no layer '\(name)' in \(model); layers: \(listing)"
            case let .fixedInputSize(fed, fixing, kind, probed, trained):
                let remedy = fed.hasPrefix("--size") ? "leave out --size" : "feed \(trained) arrays"
                return "\(fed): layer '\(fixing)' (\(kind)) before '\(probed)' fixes the input at \(trained); only a fully convolutional prefix runs at another size (choose an earlier --layer, or \(remedy))"
            case let .tooManyActivations(model, input, elements, limit):
                let dims = input.map(String.init).joined(separator: "x")
                return "\(model): an input of \(dims) makes the layers' outputs hold \(elements) values, more than the \(limit) allowed; use a smaller --size or batch"
            }
        }
    }

    /// The probe of layer `name` (a layer name, an alias, or an ONNX value name).
    public init(source: ModelSource, layer name: String) throws {
        guard let index = source.architecture.index(ofLayer: name) else {
            throw Failure.noSuchLayer(name: name, model: source.path, listing: source.architecture.layerListing)
        }
        self.source = source
        self.layer = index
    }

    /// The probe of layer `index`.
    public init(source: ModelSource, index: Int) {
        precondition(source.architecture.layers.indices.contains(index), "layer \(index) out of range")
        self.source = source
        self.layer = index
    }

    /// [C, H, W] the model was built for.
    public var trainedInput: [Int] { source.architecture.input }

    /// Throws unless the prefix runs on inputs of spatial size `size` ([H, W]): any size
    /// for a fully convolutional prefix, the trained size otherwise. `fed` says what set
    /// the size, for the message ("--size 64x64", "the input's 28x28").
    public func checkRuns(atSize size: [Int], fed: String) throws {
        guard size != Array(trainedInput.dropFirst()) else { return }
        let prefix = source.architecture.prefix(through: layer)
        guard let fixed = prefix.layers.first(where: { $0.kind == .linear || $0.kind == .flatten }) else { return }
        throw Failure.fixedInputSize(fed: fed, fixingLayer: fixed.name ?? "?", kind: fixed.kind.rawValue, probed: layerName,
                                     trained: trainedInput.dropFirst().map(String.init).joined(separator: "x"))
    }

    /// A photo resized to the model's input (or `size`, [H, W]) and standardized (see
    /// `ModelInput.photo`); a size the prefix cannot run at, or whose activations would
    /// not fit, is refused before the photo is decoded.
    public func photo(at path: String, size: [Int]? = nil, mean: [Float]? = nil, std: [Float]? = nil) throws -> ModelInput.Prepared {
        if let size {
            try checkRuns(atSize: size, fed: "--size \(size.map(String.init).joined(separator: "x"))")
            try checkBudget(input: [1, trainedInput[0]] + size)
        }
        return try ModelInput.photo(at: path, for: source, size: size, mean: mean, std: std)
    }

    /// An array (.npy) fed as it is, [N, C, H, W] or [C, H, W].
    public func array(at path: String) throws -> ModelInput.Prepared {
        let prepared = try ModelInput.array(at: path, channels: trainedInput[0])
        let fed = Array(prepared.batch.shape.suffix(2))
        try checkRuns(atSize: fed, fed: "the input's \(fed.map(String.init).joined(separator: "x"))")
        return prepared
    }

    /// The values every layer of the prefix outputs for a batch of `input` ([N, C, H, W]),
    /// summed: what running it costs in memory at most (values are freed as soon as no
    /// later layer reads them, so the peak is lower). Saturates instead of overflowing.
    public func activationElements(input: [Int]) throws -> Int {
        let prefix = source.architecture.prefix(through: layer, input: Array(input.dropFirst()))
        let shapes: [[Int]]
        do { shapes = try prefix.shapes() } catch let e as ShapeError { throw ReadError(source.path, .badShape, e.description) }
        return shapes.reduce(0) { total, shape in LayerSpec.sum(total, LayerSpec.product([input[0]] + shape)) }
    }

    /// The prefix graph for inputs of shape `input` ([N, C, H, W] or [C, H, W]), after
    /// checking its activations fit `maxActivationElements`. Random weights (an
    /// architecture without weights) come from `seed`.
    public func graph(input: [Int], seed: UInt64 = 0) throws -> Graph {
        let batch = input.count == 4 ? input : [1] + input
        try checkBudget(input: batch)
        return try source.prefix(through: layer, input: Array(batch.dropFirst())).makeGraph(seed: seed)
    }

    /// Throws when the prefix's outputs for `input` [N, C, H, W] exceed `maxActivationElements`.
    public func checkBudget(input: [Int]) throws {
        let elements = try activationElements(input: input)
        guard elements <= maxActivationElements else {
            throw Failure.tooManyActivations(model: source.path, input: input, elements: elements, limit: maxActivationElements)
        }
    }

    /// The layer's output for `batch` [N, C, H, W] (evaluation mode).
    public func activations(_ batch: Tensor, seed: UInt64 = 0) throws -> Tensor {
        let graph = try graph(input: batch.shape, seed: seed)
        return graph.output(batch)
    }
}
