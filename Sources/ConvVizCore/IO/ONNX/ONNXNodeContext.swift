import Foundation

/// What converting one node produces.
enum ONNXEmission {
    /// Layers computing the node's output (the last one's); usually one.
    case layers([ONNXNewLayer])
    /// A value folded at import time (Constant, Identity of a constant, ...).
    case constant(ONNXTensor)
    /// A bias for an existing bias-free linear layer (MatMul then Add); the node's output
    /// is that layer's.
    case bias(layer: String, Tensor)
    /// A final Softmax or LogSoftmax, left out: the graph's output is the layer before it
    /// (the logits), which every ConvViz consumer turns into probabilities itself.
    case finalNormalization(layer: String)
}

/// A layer for the builder to name, shape and add.
struct ONNXNewLayer {
    /// Kind, settings and inputs (layer names; nil: the previous new layer of the same node).
    var spec: LayerSpec
    /// Weights by local name (`weight`, `bias`, `running_mean`, `running_var`).
    var parameters: [(String, Tensor)] = []
    /// `P` when the weight initializer is `P.weight`: the layer's name if still free.
    var weightPrefix: String?
    /// Appended to the node's name (for a node that becomes several layers).
    var nameSuffix: String?
    /// A linear layer from MatMul, which a following Add of a constant may give a bias.
    var fromMatMul = false

    init(_ spec: LayerSpec, parameters: [(String, Tensor)] = [], weightName: String? = nil, nameSuffix: String? = nil, fromMatMul: Bool = false) {
        self.spec = spec
        self.parameters = parameters
        if let w = weightName, w.hasSuffix(".weight"), w.count > ".weight".count { weightPrefix = String(w.dropLast(".weight".count)) }
        self.nameSuffix = nameSuffix
        self.fromMatMul = fromMatMul
    }
}

/// One node with what has been imported before it: its attributes and inputs, read with
/// errors that name the node and its op type.
struct ONNXNodeContext {
    let node: ONNXFile.Node
    let file: String
    let opset: Int
    let batch: Int?
    let constants: [String: ONNXTensor]
    let values: [String: String]
    let shapes: [String: [Int]]
    let consumers: [String: Int]
    let matMulLinears: Set<String>
    let layers: [LayerSpec]
    let layerIndex: [String: Int]
    /// The graph's (first) output.
    var graphOutput = ""

    /// `node 'NAME' (OpType)`.
    var label: String { "node '\(node.displayName)' (\(node.opType))" }

    func error(_ message: String) -> ONNXImportError { ONNXImportError(file: file, "\(label): \(message)") }

    /// The node's operation (or this use of it) has no ConvViz layer.
    func unsupported(_ detail: String? = nil) -> ONNXImportError {
        error("ConvViz does not run this operation" + (detail.map { " (\($0))" } ?? ""))
    }

    // MARK: Inputs

    func hasInput(_ i: Int) -> Bool { i < node.inputs.count && !node.inputs[i].isEmpty }

    /// Input `i` if it is a constant (initializer or folded node).
    func constant(_ i: Int) -> ONNXTensor? { hasInput(i) ? constants[node.inputs[i]] : nil }

    func isConstant(_ i: Int) -> Bool { constant(i) != nil }

    /// Input `i` as a computed value: the layer computing it and its per-sample shape.
    func computed(_ i: Int) throws -> (layer: String, shape: [Int]) {
        guard hasInput(i) else { throw error("input \(i) is missing") }
        let v = node.inputs[i]
        if constants[v] != nil { throw unsupported("input '\(v)' is a constant") }
        guard let layer = values[v], let shape = shapes[layer] else {
            throw error("reads '\(v)', a value ConvViz does not compute")
        }
        return (layer, shape)
    }

    /// Input `i` as a Float constant of the given rank (`what` names it in errors).
    func floatConstant(_ i: Int, _ what: String, rank: Int? = nil) throws -> (tensor: Tensor, name: String) {
        guard hasInput(i) else { throw error("no \(what)") }
        guard let c = constant(i) else { throw unsupported("the \(what) '\(node.inputs[i])' is computed, not a constant") }
        guard !c.elementType.isInteger, let t = c.values else { throw error("the \(what) '\(c.name)' is an integer tensor") }
        if let rank, t.rank != rank { throw error("the \(what) '\(c.name)' has shape \(t.shape); expected \(rank) dimensions") }
        return (t, node.inputs[i])
    }

    /// Input `i` as an integer constant (shapes, axes).
    func integerConstant(_ i: Int, _ what: String) throws -> [Int64] {
        guard hasInput(i) else { throw error("no \(what)") }
        guard let c = constant(i) else { throw unsupported("the \(what) '\(node.inputs[i])' is computed, not a constant") }
        guard let ints = c.integers else { throw error("the \(what) '\(c.name)' is not an integer tensor") }
        return ints
    }

    /// Input `i` as a single number, or nil where the optional input is left out.
    func scalar(_ i: Int, _ what: String) throws -> Float? {
        guard hasInput(i) else { return nil }
        guard let c = constant(i) else { throw unsupported("the \(what) '\(node.inputs[i])' is computed, not a constant") }
        guard let t = c.values, t.count == 1 else { throw error("the \(what) '\(c.name)' is not a single number (shape \(c.shape))") }
        return t.data[0]
    }

    // MARK: Attributes

    func int(_ key: String, default value: Int) throws -> Int {
        switch node.attributes[key] {
        case nil: return value
        case let .int(v)?: return Int(clamping: v)
        case let a?: throw error("attribute '\(key)' is \(a.typeName), expected an integer")
        }
    }

    func float(_ key: String, default value: Float) throws -> Float {
        switch node.attributes[key] {
        case nil: return value
        case let .float(v)?: return v
        case let .int(v)?: return Float(v)
        case let a?: throw error("attribute '\(key)' is \(a.typeName), expected a number")
        }
    }

    func optionalFloat(_ key: String) throws -> Float? {
        node.attributes[key] == nil ? nil : try float(key, default: 0)
    }

    func ints(_ key: String) throws -> [Int]? {
        switch node.attributes[key] {
        case nil: return nil
        case let .ints(v)?: return v.map { Int(clamping: $0) }
        case let .int(v)?: return [Int(clamping: v)]
        case let a?: throw error("attribute '\(key)' is \(a.typeName), expected a list of integers")
        }
    }

    func string(_ key: String, default value: String) throws -> String {
        switch node.attributes[key] {
        case nil: return value
        case let .string(v)?: return v
        case let a?: throw error("attribute '\(key)' is \(a.typeName), expected a string")
        }
    }

    /// The per-sample rank plus the batch dimension: the rank ONNX axes refer to.
    func fullRank(_ shape: [Int]) -> Int { shape.count + 1 }

    /// An axis made non-negative for a tensor of `rank` dimensions, or nil if outside.
    func normalizedAxis(_ axis: Int, rank: Int) -> Int? {
        let a = axis < 0 ? axis + rank : axis
        return (0..<rank).contains(a) ? a : nil
    }
}
