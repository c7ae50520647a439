import Foundation

/// A trained model on disk: a safetensors file whose tensors are named as PyTorch names
/// them (`conv1.weight`, `bn1.running_mean`, ...) so `load_state_dict` accepts it, and
/// whose `__metadata__` holds the architecture, the input standardization, the training
/// settings and the step reached.
public struct Checkpoint {
    public var architecture: Architecture
    public var standardization: Standardization
    /// Training settings as a JSON object string (free-form, for the record).
    public var settings: String
    public var step: Int
    public var epoch: Int
    public var tensors: [String: Tensor]
    /// Whether the file records how its training images were standardized (a folded
    /// ONNX model does not; then `standardization` is the identity).
    public private(set) var recordsStandardization = false
    /// Extra metadata kept verbatim (e.g. `convviz.folded`, `convviz.machine`).
    public var notes: [String: String] = [:]

    /// The note recording where a trained checkpoint was computed (`BLAS.machineJSON`:
    /// CPU model, OpenBLAS version and kernel): its bytes are reproducible there.
    public static let machineKey = "convviz.machine"

    enum Key {
        static let architecture = "convviz.architecture"
        static let standardization = "convviz.standardization"
        static let settings = "convviz.training"
        static let step = "convviz.step"
        static let epoch = "convviz.epoch"
    }

    public init(model: Sequential, architecture: Architecture, standardization: Standardization,
                settings: String = "{}", step: Int = 0, epoch: Int = 0) {
        self.architecture = architecture
        self.standardization = standardization
        self.settings = settings
        self.step = step
        self.epoch = epoch
        tensors = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.parameter.value) })
    }

    /// The checkpoint's bytes: model tensors in layer order, plus each BatchNorm's
    /// `num_batches_tracked` (PyTorch expects it) and the metadata.
    public func encoded(model: Sequential) -> Data {
        let ordered = model.namedParameters.map { ($0.name, tensors[$0.name] ?? $0.parameter.value) }
        let counters = model.layers.compactMap { $0 as? BatchNorm2D }.map { ("\($0.name).num_batches_tracked", Int64(step)) }
        // Arrays of floats: encodable unless one is NaN or infinite, which no reader accepts.
        let standardizationJSON = (try? JSONEncoder.sorted.encode(standardization)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return SafeTensorsFile.encode(ordered, int64Scalars: counters, metadata: notes.merging([
            "format": "pt",
            Key.architecture: String(decoding: architecture.jsonData(), as: UTF8.self),
            Key.standardization: standardizationJSON,
            Key.settings: settings,
            Key.step: String(step),
            Key.epoch: String(epoch),
        ]) { _, new in new })
    }

    /// Reads a checkpoint written by ConvViz (architecture metadata required).
    public init(contentsOf url: URL, limits: ReadLimits = .default) throws {
        try self.init(try SafeTensorsFile(contentsOf: url, limits: limits))
    }

    /// A checkpoint from its parsed safetensors file (errors name `file.file`).
    public init(_ file: SafeTensorsFile) throws {
        let url = URL(fileURLWithPath: file.file)
        let header = try Self.header(of: file, file: file.file)
        architecture = header.architecture
        step = header.step
        epoch = header.epoch
        if let s = file.metadata[Key.standardization], let decoded = try? JSONDecoder().decode(Standardization.self, from: Data(s.utf8)),
           decoded.mean.count == architecture.input[0], decoded.std.count == architecture.input[0],
           decoded.mean.allSatisfy(\.isFinite), decoded.std.allSatisfy({ $0 > 0 && $0.isFinite }) {
            standardization = decoded
            recordsStandardization = true
        } else {
            standardization = Standardization(mean: Array(repeating: 0, count: architecture.input[0]), std: Array(repeating: 1, count: architecture.input[0]))
        }
        settings = file.metadata[Key.settings] ?? "{}"
        notes = file.metadata.filter { $0.key.hasPrefix("convviz.") && ![Key.architecture, Key.standardization, Key.settings, Key.step, Key.epoch].contains($0.key) }
        var tensors: [String: Tensor] = [:]
        for name in file.names where !name.hasSuffix("num_batches_tracked") { tensors[name] = try file.tensor(name) }
        self.tensors = tensors
        // A trained chain, or a graph written by `fold-bn`: either way every tensor must fit.
        if architecture.isChain { _ = try makeModel(file: url.path) } else { try architecture.makeGraph().load(tensors, file: url.path) }
    }

    /// Builds the architecture and loads every tensor into it, checking names and shapes.
    public func makeModel(file: String = "checkpoint") throws -> Sequential {
        let model = try architecture.makeModel(seed: 0)
        for (name, p) in model.namedParameters {
            guard let t = tensors[name] else { throw ReadError(file, .missingTensor, "no tensor '\(name)' for the architecture") }
            guard t.shape == p.value.shape else {
                throw ReadError(file, .badShape, "tensor '\(name)' has shape \(t.shape), the architecture needs \(p.value.shape)")
            }
            p.value = t
        }
        return model
    }

    public func write(to url: URL, model: Sequential) throws {
        try AtomicFile.write(encoded(model: model), to: url)
    }
}

extension JSONEncoder {
    /// Sorted keys: the same value always gives the same bytes.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
