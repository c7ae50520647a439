/// Any `Architecture` built for evaluation: layers run in the listed order, each on the
/// outputs of the layers it names, so residual additions, concatenations and
/// squeeze-excitation products run as written. Input gradients flow back through every
/// branch (the effective receptive field of a ResNet unit).
///
/// Training runs chains only (`Sequential`, with its fused blocks); a chain built as a
/// `Graph` runs the same layers with the same initial weights.
public final class Graph {
    public let architecture: Architecture
    /// The built layers, one per architecture layer, in order.
    public private(set) var operations: [Operation]
    /// Per layer, the indices of its inputs (-1: the network's input).
    public let wiring: [[Int]]
    /// Per-sample output shape of each layer.
    public let shapes: [[Int]]

    /// Most weights (and running statistics) a graph may allocate: 2^30 floats, 4 GiB.
    public static let maxParameters = 1 << 30

    init(_ architecture: Architecture, seed: UInt64) throws {
        self.architecture = architecture
        let wiring = try architecture.wiring(), shapes = try architecture.shapes()
        try architecture.checkParameterBudget()
        self.wiring = wiring
        self.shapes = shapes
        var rng = SeededGenerator(seed: seed)
        var built: [Operation] = []
        for (i, spec) in architecture.layers.enumerated() {
            let inputShapes = wiring[i].map { $0 < 0 ? architecture.input : shapes[$0] }
            built.append(try spec.makeLayer(inputShapes: inputShapes, rng: &rng))
        }
        operations = built
    }

    public var inputShape: [Int] { architecture.input }

    /// Every parameter and buffer with its state-dict name (`layer1.0.conv1.weight`, ...).
    public var namedParameters: [(name: String, parameter: Parameter)] {
        operations.flatMap { op in op.parameters.map { ("\(op.name).\($0.name)", $0) } }
    }

    /// The position of a layer by name or alias.
    public func index(ofLayer name: String) -> Int? { architecture.index(ofLayer: name) }

    /// Replaces every parameter and buffer by the tensor of the same name, as PyTorch's
    /// `load_state_dict(strict=True)` does: a missing name, an unexpected name or a shape
    /// that differs is an error naming `file`. `num_batches_tracked` counters are ignored.
    public func load(_ weights: [String: Tensor], file: String) throws {
        var unused = Set(weights.keys.filter { !$0.hasSuffix(".num_batches_tracked") })
        for (name, parameter) in namedParameters {
            guard let tensor = weights[name] else {
                throw ReadError(file, .missingTensor, "no tensor '\(name)' for layer '\(name.split(separator: ".").dropLast().joined(separator: "."))'")
            }
            guard tensor.shape == parameter.value.shape else {
                throw ReadError(file, .badShape, "'\(name)' has shape \(tensor.shape), the architecture needs \(parameter.value.shape)")
            }
            parameter.value = tensor
            unused.remove(name)
        }
        if !unused.isEmpty {
            let listed = unused.sorted().prefix(5).joined(separator: ", ")
            throw ReadError(file, .corrupt, "\(unused.count) tensor(s) match no layer of the architecture: \(listed)\(unused.count > 5 ? ", ..." : "")")
        }
    }

    /// For inference only: every ReLU whose input is a convolution read by nothing else
    /// runs inside that convolution, on each output block while it is in cache, and the
    /// ReLU layer passes values through. The outputs are the same; the graph can no
    /// longer record for backward or show the convolution's own output. Returns how many.
    @discardableResult
    public func fusingReLUIntoConvolutions() -> Int {
        let readers = Wiring.readerCounts(wiring)
        var fused = 0
        for (i, op) in operations.enumerated() {
            guard case let .layer(relu) = op, relu is ReLU, let c = wiring[i].first, c >= 0, readers[c] == 1,
                  case let .layer(layer) = operations[c], let conv = layer as? Conv2D else { continue }
            conv.rectifiesOutput = true
            operations[i] = .layer(Pointwise(name: relu.name, .identity))
            fused += 1
        }
        return fused
    }

    /// The layers `last` depends on, itself included.
    private func ancestors(of last: Int) -> Set<Int> { Wiring.ancestors(of: last, in: wiring) }

    /// Runs the network on a batch `[N, C, H, W]` up to layer `last` (default: the
    /// output), computing only what it depends on. Returns the outputs of `last` and of
    /// the layers in `keep`; other values are freed as soon as no later layer needs them.
    public func forward(_ x: Tensor, mode: Mode, through last: Int? = nil, keep: Set<Int> = []) -> [Int: Tensor] {
        let last = last ?? operations.count - 1
        let needed = ancestors(of: last).union(keep.filter { $0 <= last }.flatMap { ancestors(of: $0) })
        // The last layer that reads each value, so it can be dropped after.
        var lastReader = [Int: Int]()
        for i in needed.sorted() { for j in wiring[i] { lastReader[j] = i } }
        var values: [Int: Tensor] = [-1: x]
        for i in 0...last where needed.contains(i) {
            let inputs = wiring[i].map { values[$0]! }
            switch operations[i] {
            case let .layer(layer): values[i] = layer.forward(inputs[0], mode: mode)
            case let .merge(merge): values[i] = merge.forward(inputs, mode: mode)
            }
            for j in Set(wiring[i]) where lastReader[j] == i && j != last && !keep.contains(j) { values[j] = nil }
        }
        values[-1] = nil
        return values.filter { $0.key == last || keep.contains($0.key) }
    }

    /// The output of layer `last` (default: the network's output).
    public func output(_ x: Tensor, mode: Mode = .evaluation, through last: Int? = nil) -> Tensor {
        let last = last ?? operations.count - 1
        return forward(x, mode: mode, through: last)[last]!
    }

    /// dL/d(input) for dL/d(output of `last`), after a recording forward pass through
    /// `last` (`.evaluationWithGradients` or `.training`). Gradients of a value read by
    /// several layers add up.
    public func inputGradient(_ gradOutput: Tensor, from last: Int) -> Tensor {
        let needed = ancestors(of: last)
        var grads: [Int: Tensor] = [last: gradOutput]
        func accumulate(_ g: Tensor, into j: Int) {
            if var existing = grads[j] {
                existing.data.withUnsafeMutableBufferPointer { e in g.data.withUnsafeBufferPointer { a in
                    for k in 0..<e.count { e[k] += a[k] }
                }}
                grads[j] = existing
            } else {
                grads[j] = g
            }
        }
        for i in stride(from: last, through: 0, by: -1) where needed.contains(i) {
            guard let g = grads.removeValue(forKey: i) else { continue }
            switch operations[i] {
            case let .layer(layer):
                if let dx = layer.backward(g, needsInputGradient: true) { accumulate(dx, into: wiring[i][0]) }
            case let .merge(merge):
                for (dx, j) in zip(merge.backward(g), wiring[i]) { accumulate(dx, into: j) }
            }
        }
        return grads[-1] ?? Tensor(shape: [gradOutput.shape[0]] + inputShape)
    }
}

extension Architecture {
    /// Learnable parameters of the whole network, from the description (saturating).
    public func learnableParameterCount() throws -> Int {
        let wiring = try wiring(), shapes = try shapes()
        return layers.indices.reduce(0) { sum, i in
            LayerSpec.sum(sum, layers[i].parameterCount(inputs: wiring[i].map { $0 < 0 ? input : shapes[$0] }))
        }
    }

    /// Throws when building the network would allocate more than `Graph.maxParameters`
    /// floats (weights with running statistics or gradients: twice the parameters),
    /// computed from the description alone.
    public func checkParameterBudget() throws {
        let total = LayerSpec.product([2, try learnableParameterCount()])
        guard total <= Graph.maxParameters else {
            throw ShapeError(layer: name, "asks for about \(total / 2) parameters; ConvViz builds networks of at most \(Graph.maxParameters / 2)")
        }
    }
}
