import Foundation

/// A network named on the command line, whatever made it: a ConvViz checkpoint or run
/// directory, an ONNX file, or an architecture JSON (or `small`) with an optional
/// PyTorch state dict in safetensors. Commands that draw or evaluate take any of them.
public struct ModelSource {
    public enum Origin: String, Sendable { case checkpoint, onnx, architecture }

    public var architecture: Architecture
    /// State-dict tensors; nil means PyTorch's default initialisation from a seed.
    public var weights: [String: Tensor]?
    /// How the network's training images were standardized, when known (ConvViz runs).
    public var standardization: Standardization?
    public let origin: Origin
    /// The file the architecture came from, for messages.
    public let path: String
    /// The file the weights came from (the model's own, or `--weights`).
    public private(set) var weightsPath: String

    private init(architecture: Architecture, weights: [String: Tensor]?, standardization: Standardization? = nil, origin: Origin, path: String) {
        self.architecture = architecture
        self.weights = weights
        self.standardization = standardization
        self.origin = origin
        self.path = path
        self.weightsPath = path
    }

    /// `model`: a run directory, checkpoint `.safetensors`, `.onnx`, architecture `.json`
    /// or `small`; `weights`: a safetensors state dict for an architecture JSON.
    public init(model: String, weights: String? = nil, limits: ReadLimits = .default) throws {
        self = try Self.read(model, limits: limits)
        if let weights {
            guard origin == .architecture else {
                throw ReadError(weights, .unsupported, "--weights goes with an architecture JSON; \(model) has its own weights")
            }
            self.weights = try Self.stateDict(weights, limits: limits)
            weightsPath = weights
        }
        AllocatorTuning.returnFreedMemory()
    }

    private static func read(_ model: String, limits: ReadLimits) throws -> ModelSource {
        if model == "small" { return ModelSource(architecture: .smallConvNet(), weights: nil, origin: .architecture, path: model) }
        let url = URL(fileURLWithPath: model)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory) else {
            throw ReadError(model, .notFound, "no such model file or run directory")
        }
        if isDirectory.boolValue { return try checkpoint(url.appendingPathComponent("checkpoint.safetensors")) }
        switch try ModelFileFormat.detect(url) {
        case .onnx:
            let imported = try ONNXImport(contentsOf: url, limits: limits)
            return ModelSource(architecture: imported.architecture, weights: imported.weights, origin: .onnx, path: model)
        case .safetensors:
            return try checkpoint(url)
        case .json:
            do {
                return ModelSource(architecture: try Architecture(contentsOf: url), weights: nil, origin: .architecture, path: model)
            } catch let e as ArchitectureError {
                throw ReadError(model, .corrupt, e.description)
            } catch let e as ShapeError {
                throw ReadError(model, .badShape, e.description)
            }
        case let format:
            if format.isPyTorch { throw ReadError(model, .unsupportedFormat, ModelFileFormat.pytorchMessage) }
            throw ReadError(model, .unsupportedFormat, "\(format.displayName) is not a model; give an .onnx file, an architecture .json or a ConvViz run")
        }
    }

    /// The network's description alone, for commands that need shapes and never weights
    /// (`shapes`, `volumes`): a checkpoint's architecture metadata is read from its header
    /// without decoding a tensor or building a layer.
    public static func architecture(of model: String, limits: ReadLimits = .default) throws -> Architecture {
        var isDirectory: ObjCBool = false
        if model != "small", FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory) {
            let url = URL(fileURLWithPath: model)
            if isDirectory.boolValue { return try Checkpoint.header(of: url.appendingPathComponent("checkpoint.safetensors"), limits: limits).architecture }
            if try ModelFileFormat.detect(url) == .safetensors { return try Checkpoint.header(of: url, limits: limits).architecture }
        }
        return try read(model, limits: limits).architecture
    }

    /// The shape table of `model`'s network, with a shape error naming the file.
    public static func shapeTable(of model: String, limits: ReadLimits = .default) throws -> ShapeTable {
        let architecture = try architecture(of: model, limits: limits)
        do { return try ShapeTable(architecture) } catch let e as ShapeError {
            throw ReadError(model, .badShape, e.description)
        } catch let e as ArchitectureError {
            throw ReadError(model, .corrupt, e.description)
        }
    }

    private static func checkpoint(_ url: URL) throws -> ModelSource {
        let checkpoint = try Checkpoint(contentsOf: url)
        return ModelSource(architecture: checkpoint.architecture, weights: checkpoint.tensors,
                           standardization: checkpoint.recordsStandardization ? checkpoint.standardization : nil, origin: .checkpoint, path: url.path)
    }

    /// Every tensor of a safetensors file, by name (a PyTorch state dict).
    static func stateDict(_ path: String, limits: ReadLimits) throws -> [String: Tensor] {
        let url = URL(fileURLWithPath: path)
        let format = try ModelFileFormat.detect(url)
        if format.isPyTorch { throw ReadError(path, .unsupportedFormat, ModelFileFormat.pytorchMessage) }
        guard format == .safetensors else {
            throw ReadError(path, .unsupportedFormat, "weights must be a safetensors state dict, this is \(format.displayName)")
        }
        let file = try SafeTensorsFile(contentsOf: url, limits: limits)
        var tensors: [String: Tensor] = [:]
        for name in file.names where !name.hasSuffix("num_batches_tracked") { tensors[name] = try file.tensor(name) }
        return tensors
    }

    /// The network ready to evaluate: built, then given its weights (or initialised
    /// from `seed` when there are none).
    public func makeGraph(seed: UInt64 = 0) throws -> Graph {
        let graph: Graph
        do { graph = try Graph(architecture, seed: seed, weights: weights, file: weightsPath) } catch let e as ArchitectureError {
            throw ReadError(path, .corrupt, e.description)
        } catch let e as ShapeError {
            throw ReadError(path, .badShape, e.description)
        }
        AllocatorTuning.returnFreedMemory()
        return graph
    }

    /// A tensor by its state-dict name, or a layer's weight by the layer's name or alias.
    public func tensor(_ name: String) throws -> (name: String, tensor: Tensor) {
        guard let weights else { throw ReadError(path, .missingTensor, "the network has no weights (add --weights W.safetensors)") }
        if let t = weights[name] { return (name, t) }
        if let index = architecture.index(ofLayer: name) {
            let key = "\(architecture.layers[index].name!).weight"
            if let t = weights[key] { return (key, t) }
            throw ReadError(weightsPath, .missingTensor, "layer '\(name)' (\(architecture.layers[index].kind.rawValue)) has no weight")
        }
        throw ReadError(weightsPath, .missingTensor, "no layer or tensor '\(name)'")
    }

    /// The same network for inference with its BatchNorms folded into the convolutions
    /// before them (what onnxruntime's graph optimizer does), and how many were folded.
    /// Consuming: the fold is the weights' only owner, so each convolution's weight is
    /// freed as its folded weight replaces it (ResNet-50: a peak of one copy, not two).
    public consuming func foldingBatchNorm() throws -> (source: ModelSource, folded: Int) {
        guard let weights else { return (self, 0) }
        self.weights = nil
        let folded = try BatchNormFolding.fold(architecture, weights: consume weights, file: weightsPath)
        var copy = self
        copy.architecture = folded.architecture
        copy.weights = folded.weights
        return (copy, folded.pairs.count)
    }

    /// The part of the network layer `last` depends on (optionally at another input
    /// size), with the weights of the layers kept.
    public func prefix(through last: Int, input: [Int]? = nil) -> ModelSource {
        var copy = self
        copy.architecture = architecture.prefix(through: last, input: input)
        let kept = Set(copy.architecture.layers.map { $0.name! })
        copy.weights = weights?.filter { name, _ in
            guard let dot = name.lastIndex(of: ".") else { return false }
            return kept.contains(String(name[..<dot]))
        }
        return copy
    }

    /// The standardization an image gets before this network sees it: the training
    /// statistics of a ConvViz run, else ImageNet's (what torchvision's models expect).
    public var defaultStandardization: (standardization: Standardization, label: String) {
        if let standardization { return (standardization, "the run's training statistics") }
        let c = architecture.input[0]
        if c == 3 { return (.imageNet, "ImageNet mean and std") }
        return (Standardization(mean: Array(repeating: 0.5, count: c), std: Array(repeating: 0.25, count: c)), "mean 0.5, std 0.25")
    }
}

extension Standardization {
    /// torchvision's ImageNet statistics (RGB, for images in [0, 1]).
    public static let imageNet = Standardization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
}
