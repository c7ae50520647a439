import Foundation

/// Why an ONNX graph does not become a ConvViz architecture; names the file and, where
/// one is to blame, the node and its op type.
public struct ONNXImportError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let message: String

    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}

/// An ONNX model as a ConvViz `Architecture` and its weights, keyed as PyTorch's state
/// dict keys them (`layer1.0.conv1.weight`, `bn1.running_mean`), so the architecture's
/// `Graph.load` takes them as they are.
///
/// The graph is followed back from its first output; nodes it does not need are dropped.
/// Each node becomes one layer (Conv, Gemm, BatchNormalization, Relu, MaxPool, Add, ...),
/// Constant nodes and constant inputs are folded, and a MatMul by a constant followed by
/// an Add of a constant becomes one linear layer. A layer whose weight initializer is
/// `P.weight` is called `P`; any other takes the ONNX node's name (or its first output's).
/// Every node name and output name is an alias of its layer, and the graph input's name
/// is an alias of `input`.
///
/// A Softmax or LogSoftmax over the classes at the very end is left out (and named in
/// `droppedOutputOperation`): the imported network outputs the logits before it, which
/// attribution explains and which every consumer (predictions, cross-entropy) turns into
/// the same probabilities itself.
public struct ONNXImport: Sendable {
    public let architecture: Architecture
    public let weights: [String: Tensor]
    /// `Softmax` or `LogSoftmax` when the file's graph ended in one (left out).
    public let droppedOutputOperation: String?

    public init(_ model: ONNXFile) throws {
        var builder = try ONNXGraphBuilder(model)
        try builder.run()
        let name = model.file.isEmpty ? model.graphName : URL(fileURLWithPath: model.file).deletingPathExtension().lastPathComponent
        let architecture = Architecture(name: name.isEmpty ? "onnx" : name, input: builder.inputShape, layers: builder.layers, aliases: builder.finalAliases())
        do { _ = try architecture.wiring() } catch {
            throw ONNXImportError(file: model.file, "the imported graph is not a valid architecture: \(error)")
        }
        self.architecture = architecture
        weights = builder.weights
        droppedOutputOperation = builder.droppedOutputOperation
    }

    public init(contentsOf url: URL, limits: ReadLimits = .default) throws {
        try self.init(try ONNXFile(contentsOf: url, limits: limits))
    }
}

/// Walks the ONNX graph in order, asking `ONNXOps.converter(for:)` to convert each node
/// it needs, and keeps the names, shapes, aliases and weights that result.
struct ONNXGraphBuilder {
    let model: ONNXFile
    var file: String { model.file }

    /// Per-sample input shape [C, H, W], and the batch size if the file fixes one.
    private(set) var inputShape: [Int] = []
    private(set) var batch: Int?
    private(set) var layers: [LayerSpec] = []
    private(set) var weights: [String: Tensor] = [:]
    /// `Softmax` or `LogSoftmax` when the graph ended in one, which the import leaves out.
    private(set) var droppedOutputOperation: String?
    private var aliases: [String: String] = [:]
    private var moduleAliases: [String: String] = [:]
    private var opAliases: [String: [String]] = [:]

    /// Constant values: initializers and folded nodes' outputs.
    private var constants: [String: ONNXTensor] = [:]
    /// ONNX value name -> the ConvViz layer that computes it (`input` for the graph input).
    private var values: [String: String] = [:]
    /// Layer name -> per-sample output shape.
    private var shapes: [String: [Int]] = [:]
    /// How many needed nodes (and graph outputs) read each value.
    private var consumers: [String: Int] = [:]
    /// Bias-free linear layers made from a MatMul, which a following Add may give a bias.
    private var matMulLinears: Set<String> = []
    private var layerIndex: [String: Int] = [:]

    init(_ model: ONNXFile) throws {
        self.model = model
        for t in model.initializerTensors { constants[t.name] = t }
        try readInput()
    }

    private func fail(_ message: String) -> ONNXImportError { ONNXImportError(file: file, message) }

    /// The first graph input that is not an initializer: NCHW with a fixed C, H and W.
    private mutating func readInput() throws {
        guard let input = model.inputs.first(where: { constants[$0.name] == nil }) else {
            throw fail("the graph has no input (every input is an initializer)")
        }
        guard let shape = input.shape else {
            throw fail("input '\(input.name)' has no shape; export with a fixed input size, e.g. torch.onnx.export(model, torch.randn(1, 3, 224, 224), path)")
        }
        guard shape.count == 4 else {
            throw fail("input '\(input.name)' has shape \(Self.describe(shape)); ConvViz imports image models with one [N, C, H, W] input")
        }
        guard let c = shape[1], let h = shape[2], let w = shape[3], c > 0, h > 0, w > 0 else {
            throw fail("input '\(input.name)' has shape \(Self.describe(shape)) with a symbolic channel, height or width; export with a fixed input size (no dynamic_axes on C, H and W), e.g. torch.onnx.export(model, torch.randn(1, 3, 224, 224), path)")
        }
        guard let size = checkedProduct([c, h, w]), size <= ReadLimits.default.maxElements else {
            throw fail("input '\(input.name)' has shape \(Self.describe(shape)), more than \(ReadLimits.default.maxElements) values per image")
        }
        if let n = shape[0], n <= 0 { throw fail("input '\(input.name)' has shape \(Self.describe(shape)): batch size \(n)") }
        batch = shape[0]
        inputShape = [c, h, w]
        values[input.name] = Architecture.inputName
        shapes[Architecture.inputName] = inputShape
        if input.name != Architecture.inputName { aliases[input.name] = Architecture.inputName }
    }

    static func describe(_ shape: [Int?]) -> String { "[" + shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]" }

    /// The nodes the first graph output depends on, in the file's order, after checking
    /// that the file's order is topological.
    private mutating func neededNodes() throws -> [ONNXFile.Node] {
        guard let output = model.outputs.first else { throw fail("the graph has no output") }
        var producer: [String: Int] = [:]
        var defined = Set(model.inputs.map(\.name)).union(constants.keys)
        for (i, node) in model.nodes.enumerated() {
            for v in node.inputs where !v.isEmpty && !defined.contains(v) {
                let later = model.nodes[(i + 1)...].contains { $0.outputs.contains(v) }
                throw fail(later
                    ? "node '\(node.displayName)' (\(node.opType)) reads '\(v)' before the node that computes it: the nodes are not in topological order"
                    : "node '\(node.displayName)' (\(node.opType)) reads '\(v)', which no node, input or initializer provides")
            }
            for v in node.outputs where !v.isEmpty {
                producer[v] = i
                defined.insert(v)
            }
        }
        guard defined.contains(output.name) else { throw fail("graph output '\(output.name)' is computed by no node") }
        var needed = Set<Int>()
        var stack = [output.name]
        while let v = stack.popLast() {
            guard let i = producer[v], needed.insert(i).inserted else { continue }
            stack.append(contentsOf: model.nodes[i].inputs.filter { !$0.isEmpty })
        }
        let nodes = needed.sorted().map { model.nodes[$0] }
        for n in nodes { for v in n.inputs where !v.isEmpty { consumers[v, default: 0] += 1 } }
        consumers[output.name, default: 0] += 1
        return nodes
    }

    mutating func run() throws {
        let nodes = try neededNodes()
        for node in nodes {
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw fail("node '\(node.displayName)' (\(node.opType), domain '\(node.domain)'): ConvViz does not run this operation")
            }
            let context = ONNXNodeContext(node: node, file: file, opset: model.opsetVersion, batch: batch,
                                          constants: constants, values: values, shapes: shapes,
                                          consumers: consumers, matMulLinears: matMulLinears, layers: layers, layerIndex: layerIndex,
                                          graphOutput: model.outputs[0].name)
            guard let convert = ONNXOps.converter(for: node.opType) else { throw context.unsupported() }
            try apply(try convert(context), node: node, context: context)
        }
        let output = model.outputs[0].name
        guard let last = values[output] else {
            throw fail("graph output '\(output)' is a constant; there is no layer to import")
        }
        guard last != Architecture.inputName else { throw fail("graph output '\(output)' is the input; the graph computes nothing") }
        guard last == layers.last?.name else {
            throw fail("graph output '\(output)' is computed by layer '\(last)', which is not the last layer")
        }
    }

    private mutating func apply(_ emission: ONNXEmission, node: ONNXFile.Node, context: ONNXNodeContext) throws {
        switch emission {
        case let .constant(tensor):
            guard let out = node.outputs.first, !out.isEmpty else { return }
            constants[out] = ONNXTensor(name: out, elementType: tensor.elementType, shape: tensor.shape, values: tensor.values, integers: tensor.integers)
        case let .bias(layer, bias):
            guard let i = layerIndex[layer] else { throw context.error("no layer '\(layer)' to add a bias to") }
            layers[i].bias = true
            weights["\(layer).bias"] = bias
            matMulLinears.remove(layer)
            bind(node, to: layer)
        case let .finalNormalization(layer):
            droppedOutputOperation = node.opType
            bind(node, to: layer)
        case let .layers(newLayers):
            var previous: String?
            for (k, new) in newLayers.enumerated() {
                var spec = new.spec
                let name = chooseName(weightPrefix: new.weightPrefix, node: node, suffix: new.nameSuffix)
                spec.name = name
                if spec.inputs == nil, let previous { spec.inputs = [previous] }
                let inputs = spec.inputs ?? []
                let inputShapes = inputs.compactMap { shapes[$0] }
                guard !inputs.isEmpty, inputShapes.count == inputs.count else {
                    throw context.error("reads \(inputs), which are not layers ConvViz has imported")
                }
                let shape: [Int]
                do { shape = try spec.outputShape(for: inputShapes) } catch { throw context.error("\(error)") }
                layerIndex[name] = layers.count
                layers.append(spec)
                shapes[name] = shape
                for (local, tensor) in new.parameters { weights["\(name).\(local)"] = tensor }
                if new.fromMatMul { matMulLinears.insert(name) }
                if k == newLayers.count - 1 { bind(node, to: name) }
                previous = name
            }
        }
    }

    /// The node's outputs are computed by `layer`; its name and outputs become aliases,
    /// and so do PyTorch's module paths (see `modulePaths`).
    private mutating func bind(_ node: ONNXFile.Node, to layer: String) {
        if let out = node.outputs.first, !out.isEmpty { values[out] = layer }
        for key in [node.name] + node.outputs where !key.isEmpty && key != layer { aliases[key] = layer }
        let (scopes, op) = Self.modulePaths(node.name)
        // A module's output is the last node inside it: later nodes overwrite.
        for scope in scopes { moduleAliases[scope] = layer }
        if let own = scopes.last ?? (op.isEmpty ? nil : ""), !op.isEmpty {
            let key = own.isEmpty ? op : "\(own).\(op)"
            opAliases[key, default: []].append(layer)
        }
    }

    /// The module paths a TorchScript-exported node sits in, outermost first, and its op
    /// type in lower case: `/layer2/layer2.0/relu_1/Relu` -> (["layer2", "layer2.0",
    /// "layer2.0.relu_1"], "relu"), so `--layer layer2.0.relu_1` (and `layer2.0`, the
    /// block's output) name what PyTorch's module paths name.
    static func modulePaths(_ nodeName: String) -> (scopes: [String], op: String) {
        guard nodeName.hasPrefix("/") else { return ([], "") }
        var parts = nodeName.split(separator: "/").map(String.init)
        guard let last = parts.popLast() else { return ([], "") }
        // "Add_1" is the second Add of its scope: the op is "add".
        let op = (last.split(separator: "_").first.map(String.init) ?? last).lowercased()
        var path = "", scopes: [String] = []
        for part in parts {
            path = path.isEmpty ? part : part.hasPrefix(path + ".") ? part : "\(path).\(part)"
            scopes.append(path)
        }
        return (scopes, op)
    }

    /// `P` for a weight `P.weight` when no layer has that name yet, else the node's name
    /// (its first output's when unnamed), made unique only where it must be.
    private func chooseName(weightPrefix: String?, node: ONNXFile.Node, suffix: String?) -> String {
        let taken = { (n: String) in n.isEmpty || n == Architecture.inputName || self.layerIndex[n] != nil }
        if suffix == nil, let p = weightPrefix, !taken(p) { return p }
        let base = node.name.isEmpty ? (node.outputs.first ?? node.opType) : node.name
        var candidates = [base + (suffix ?? "")]
        if suffix == nil, let out = node.outputs.first { candidates.append(out) }
        if let free = candidates.first(where: { !taken($0) }) { return free }
        var k = 2
        while taken("\(candidates[0])_\(k)") { k += 1 }
        return "\(candidates[0])_\(k)"
    }

    /// Aliases, less any that would hide a layer's own name; module paths and
    /// `module.op` names (`layer1.0.add`) only where they name one layer.
    func finalAliases() -> [String: String] {
        var result = aliases
        for (key, layer) in moduleAliases where result[key] == nil { result[key] = layer }
        for (key, layers) in opAliases where result[key] == nil && layers.count == 1 { result[key] = layers[0] }
        return result.filter { layerIndex[$0.key] == nil }
    }
}
