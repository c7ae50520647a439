import Foundation

/// An ONNX model (`.onnx`, a protobuf `ModelProto`) as plain Swift values: the graph's
/// inputs, outputs and nodes, and its initializers as ConvViz tensors. Reading checks what
/// ConvViz needs and nothing more; `ONNXImport` turns the graph into an `Architecture`.
///
/// Opset 11 and up; weights stored beside the model (`MODEL.onnx.data`, what
/// `torch.onnx.export` writes by default) are read from there.
public struct ONNXFile: Sendable {
    /// A graph input or output: its name and shape, `nil` for a symbolic dimension
    /// (`batch_size`); the shape itself is nil where the file gives none.
    public struct ValueInfo: Sendable, Equatable {
        public let name: String
        public let shape: [Int?]?
        public let elementType: ONNXTensor.ElementType?

        public init(name: String, shape: [Int?]?, elementType: ONNXTensor.ElementType? = .float) {
            self.name = name
            self.shape = shape
            self.elementType = elementType
        }
    }

    /// A node's attribute value. Kinds ConvViz never reads (graphs, sparse tensors, type
    /// protos, lists of strings or tensors) are kept as `.other` with the ONNX type's name.
    public enum Attribute: Sendable, Equatable {
        case int(Int64)
        case float(Float)
        case ints([Int64])
        case floats([Float])
        case string(String)
        case tensor(ONNXTensor)
        case other(String)
    }

    public struct Node: Sendable, Equatable {
        public let name: String
        public let opType: String
        /// "" for the default (ai.onnx) domain.
        public let domain: String
        /// Value names; "" for an optional input left out.
        public let inputs: [String]
        public let outputs: [String]
        public let attributes: [String: Attribute]

        public init(name: String, opType: String, domain: String = "", inputs: [String], outputs: [String], attributes: [String: Attribute] = [:]) {
            self.name = name
            self.opType = opType
            self.domain = domain
            self.inputs = inputs
            self.outputs = outputs
            self.attributes = attributes
        }

        /// The node's name, or its first output's where it has none (as ONNX tools show it).
        public var displayName: String { name.isEmpty ? (outputs.first ?? opType) : name }
    }

    public let file: String
    public let irVersion: Int
    /// The opset of the default (ai.onnx) domain.
    public let opsetVersion: Int
    public let producerName: String
    public let producerVersion: String
    public let graphName: String
    /// The graph's inputs that are not initializers: what a user feeds the model.
    public let inputs: [ValueInfo]
    public let outputs: [ValueInfo]
    /// In the file's order (topological, as ONNX requires).
    public let nodes: [Node]
    /// Every initializer in the file's order, with its element type and shape.
    public let initializerTensors: [ONNXTensor]

    /// Initializers as Float32 tensors: all floating-point ones, and integer ones whose
    /// values are exactly representable (magnitude at most 2^24).
    public var initializers: [String: Tensor] {
        Dictionary(initializerTensors.compactMap { t in t.values.map { (t.name, $0) } }, uniquingKeysWith: { a, _ in a })
    }

    /// Integer (INT64, INT32) initializers, flattened: shapes of Reshape, axes, and so on.
    public var integerInitializers: [String: [Int64]] {
        Dictionary(initializerTensors.compactMap { t in t.integers.map { (t.name, $0) } }, uniquingKeysWith: { a, _ in a })
    }

    /// Initializer names in the file's order.
    public var initializerNames: [String] { initializerTensors.map(\.name) }

    /// The initializer called `name`.
    public func initializer(_ name: String) -> ONNXTensor? { initializerTensors.first { $0.name == name } }

    /// Learnable numbers, as PyTorch counts them: elements of the floating-point
    /// initializers, less BatchNormalization's running statistics.
    public var parameterCount: Int {
        let statistics = runningStatisticNames
        return initializerTensors.filter { !$0.elementType.isInteger && !statistics.contains($0.name) }.reduce(0) { $0 + $1.count }
    }

    /// Elements of the initializers that are BatchNormalization's running mean and variance.
    public var runningStatisticCount: Int {
        let statistics = runningStatisticNames
        return initializerTensors.filter { statistics.contains($0.name) }.reduce(0) { $0 + $1.count }
    }

    /// Initializers read as BatchNormalization's mean and variance (inputs 3 and 4).
    private var runningStatisticNames: Set<String> {
        Set(nodes.filter { $0.opType == "BatchNormalization" }.flatMap { $0.inputs.dropFirst(3).prefix(2) })
    }

    /// Node counts per op type, most frequent first (ties by name).
    public var opTypeCounts: [(opType: String, count: Int)] {
        var counts: [String: Int] = [:]
        for n in nodes { counts[n.domain.isEmpty || n.domain == "ai.onnx" ? n.opType : "\(n.domain).\(n.opType)", default: 0] += 1 }
        return counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { ($0.key, $0.value) }
    }

    /// Reads `url`, refusing a file larger than `limits.maxModelFileBytes` before reading it.
    public init(contentsOf url: URL, limits: ReadLimits = .default) throws {
        let decoder = ONNXDecoder(file: url.path, limits: limits)
        try FileReading.checkSize(url, maxBytes: limits.maxModelFileBytes, what: "ONNX model")
        // A large file's weights are read in place, a tensor at a time (`ONNXMappedModel`):
        // about one copy of them is resident at any time.
        if let mapped = ONNXMappedModel(url) {
            var model = try decoder.parseModel(mapped.data)
            self.init(decoded: try decoder.decode(model: &model, inPlace: mapped), file: url.path)
            return
        }
        // Else the file's bytes (mapped) go when this closure returns, before the weights are
        // converted: the file, the parsed message and the tensors are never all resident.
        var model = try { try decoder.parseModel(FileReading.read(url, maxBytes: limits.maxModelFileBytes, what: "ONNX model")) }()
        self.init(decoded: try decoder.decode(model: &model), file: url.path)
    }

    /// Parses a serialized `ModelProto`; `file` names the file in errors.
    public init(data: Data, file: String, limits: ReadLimits = .default) throws {
        self.init(decoded: try ONNXDecoder(file: file, limits: limits).decode(data), file: file)
    }

    private init(decoded: ONNXDecoder.Decoded, file: String) {
        self.file = file
        irVersion = decoded.irVersion
        opsetVersion = decoded.opsetVersion
        producerName = decoded.producerName
        producerVersion = decoded.producerVersion
        graphName = decoded.graphName
        inputs = decoded.inputs
        outputs = decoded.outputs
        nodes = decoded.nodes
        initializerTensors = decoded.initializers
    }

    /// Assembles a model from values (tests, and tools that build graphs).
    public init(file: String, irVersion: Int = 8, opsetVersion: Int, producerName: String = "", producerVersion: String = "",
                graphName: String = "", inputs: [ValueInfo], outputs: [ValueInfo], nodes: [Node], initializers: [ONNXTensor]) {
        self.file = file
        self.irVersion = irVersion
        self.opsetVersion = opsetVersion
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.graphName = graphName
        self.inputs = inputs
        self.outputs = outputs
        self.nodes = nodes
        initializerTensors = initializers
    }
}

/// A constant tensor of an ONNX file (an initializer or a Constant node's value).
public struct ONNXTensor: Sendable, Equatable {
    /// The element types ConvViz reads.
    public enum ElementType: String, Sendable, CaseIterable {
        case float, double, float16, int64, int32

        public var isInteger: Bool { self == .int64 || self == .int32 }
    }

    public let name: String
    public let elementType: ElementType
    public let shape: [Int]
    /// The values as Float32: always for floating-point types, for integer types where
    /// every value is exactly representable (magnitude at most 2^24).
    public let values: Tensor?
    /// The values of an integer tensor.
    public let integers: [Int64]?

    public init(name: String, elementType: ElementType, shape: [Int], values: Tensor?, integers: [Int64]?) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
        self.values = values
        self.integers = integers
    }

    /// A Float32 tensor.
    public init(name: String, _ tensor: Tensor) {
        self.init(name: name, elementType: .float, shape: tensor.shape, values: tensor, integers: nil)
    }

    /// An INT64 tensor (1-D unless `shape` says otherwise).
    public init(name: String, integers: [Int64], shape: [Int]? = nil) {
        let shape = shape ?? [integers.count]
        let small = integers.allSatisfy { $0.magnitude <= 1 << 24 }
        self.init(name: name, elementType: .int64, shape: shape,
                  values: small && checkedProduct(shape) == integers.count ? Tensor(shape: shape, data: integers.map(Float.init)) : nil, integers: integers)
    }

    public var count: Int { checkedProduct(shape) ?? 0 }
}
