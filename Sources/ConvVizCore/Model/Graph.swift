import Dispatch

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

    /// Builds the layers (initialised from `seed`) and, when `weights` are given, loads
    /// each layer's as soon as it is built (see `load`): its random initialisation is
    /// freed before the next layer's is made, so a large network is not in memory twice
    /// (ResNet-18: 47 MB less at the peak).
    init(_ architecture: Architecture, seed: UInt64, weights: [String: Tensor]? = nil, file: String = "") throws {
        self.architecture = architecture
        let wiring = try architecture.wiring(), shapes = try architecture.shapes()
        try architecture.checkParameterBudget()
        self.wiring = wiring
        self.shapes = shapes
        var rng = SeededGenerator(seed: seed)
        var built: [Operation] = []
        var unused = Set(weights?.keys.filter { !$0.hasSuffix(".num_batches_tracked") } ?? [])
        for (i, spec) in architecture.layers.enumerated() {
            let inputShapes = wiring[i].map { $0 < 0 ? architecture.input : shapes[$0] }
            let operation = try spec.makeLayer(inputShapes: inputShapes, rng: &rng)
            if let weights { try Self.assign(operation, from: weights, file: file, unused: &unused) }
            built.append(operation)
        }
        operations = built
        if weights != nil { try Self.refuseUnused(unused, file: file) }
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
        for op in operations { try Self.assign(op, from: weights, file: file, unused: &unused) }
        try Self.refuseUnused(unused, file: file)
    }

    /// Gives `op`'s parameters and buffers their tensors from `weights` (see `load`),
    /// crossing their names off `unused`.
    private static func assign(_ op: Operation, from weights: [String: Tensor], file: String, unused: inout Set<String>) throws {
        for parameter in op.parameters {
            let name = "\(op.name).\(parameter.name)"
            guard let tensor = weights[name] else {
                throw ReadError(file, .missingTensor, "no tensor '\(name)' for layer '\(op.name)'")
            }
            guard tensor.shape == parameter.value.shape else {
                throw ReadError(file, .badShape, "'\(name)' has shape \(tensor.shape), the architecture needs \(parameter.value.shape)")
            }
            parameter.value = tensor
            unused.remove(name)
        }
    }

    private static func refuseUnused(_ unused: Set<String>, file: String) throws {
        if !unused.isEmpty {
            let listed = unused.sorted().prefix(5).joined(separator: ", ")
            throw ReadError(file, .corrupt, "\(unused.count) tensor(s) match no layer of the architecture: \(listed)\(unused.count > 5 ? ", ..." : "")")
        }
    }

    /// Every ReLU and clip (ReLU6) whose input is a convolution read by nothing else runs
    /// inside that convolution, on each output block while it is in cache, and every ReLU
    /// after a residual addition read by nothing else runs inside the addition (one pass
    /// over the map instead of two); the activation layer passes values through. Then
    /// every residual addition of a convolution read by nothing else runs inside that
    /// convolution, with the addition's ReLU (`fusingResidualAdditions`), and every max
    /// pool after a convolution read by nothing else inside it (`fusingPools`). The outputs are
    /// the same. A recording forward pass (`.evaluationWithGradients`, `.training`) runs
    /// each pair unfused again, so that gradients still flow through the activation (and
    /// the producer's own output is recorded). Returns how many activations.
    @discardableResult
    public func fusingActivations() -> Int {
        let fused = fusingActivationsAlone()
        fusingResidualAdditions()
        fusingPools()
        return fused
    }

    private func fusingActivationsAlone() -> Int {
        let readers = Wiring.readerCounts(wiring)
        var fused = 0
        for (i, op) in operations.enumerated() {
            guard case let .layer(layer) = op, let c = wiring[i].first, c >= 0, readers[c] == 1 else { continue }
            let clip: ClosedRange<Float>?
            if layer is ReLU {
                clip = nil
            } else if let p = layer as? Pointwise, case let .clip(lo, hi) = p.function, lo <= hi {
                clip = lo...hi
            } else { continue }
            let pair: FusedActivation
            switch operations[c] {
            case let .layer(conv as Conv2D) where !conv.rectifiesOutput && conv.clipsOutput == nil:
                pair = FusedActivation(layer: layer) { on in
                    if let clip { conv.clipsOutput = on ? clip : nil } else { conv.rectifiesOutput = on }
                }
            case let .merge(add as Elementwise) where add.operation == .add && clip == nil && !add.rectifiesOutput:
                pair = FusedActivation(layer: layer) { add.rectifiesOutput = $0 }
            default: continue
            }
            pair.enable(true)
            operations[i] = .layer(Pointwise(name: layer.name, .identity))
            fusedActivations[i] = pair
            fused += 1
        }
        return fused
    }

    /// Every addition of two values of one shape, one of them a convolution read by
    /// nothing else and computed after the other, runs in that convolution's epilogue
    /// (`Conv2D.residual`): the sum is written over the other value's storage while the
    /// convolution's output is in cache, and the addition passes it on. Of two such
    /// convolutions the later one (a downsampling block's shortcut, computed after its
    /// main branch in torchvision's order). Not in a pass that needs the convolution's own
    /// output (`through`, `keep`) or replaces it, nor in a recording pass. Returns how many.
    @discardableResult
    func fusingResidualAdditions() -> Int {
        let readers = Wiring.readerCounts(wiring)
        for (i, op) in operations.enumerated() where fusedAdditions[i] == nil {
            guard case let .merge(add as Elementwise) = op, add.operation == .add, wiring[i].count == 2 else { continue }
            let (a, b) = (wiring[i][0], wiring[i][1])
            guard a != b, shape(of: a) == shape(of: b) else { continue }
            // Only the later input can take the sum: the other value must exist when it runs.
            let (c, other) = (max(a, b), min(a, b))
            guard readers[c] == 1, case let .layer(conv as Conv2D) = operations[c], !conv.rectifiesOutput, conv.clipsOutput == nil else { continue }
            fusedAdditions[i] = FusedAddition(addition: add, convolution: conv, convolutionIndex: c, residual: other)
        }
        return fusedAdditions.count
    }

    /// Every max pool whose input is a convolution read by nothing else (through its fused
    /// ReLU or clip, if any) runs inside that convolution (`Conv2D.pooling`): ResNet's stem
    /// pools each block of its rows while they are in cache instead of writing its whole
    /// map (51 MB at batch 16) for the pool to read back. Not a 2x2 stride-2 pool without
    /// padding (it keeps its own loop), not in a recording pass, nor in one that needs the
    /// convolution's or activation's own output or replaces one of the three. Returns how many.
    @discardableResult
    func fusingPools() -> Int {
        let readers = Wiring.readerCounts(wiring)
        for (i, op) in operations.enumerated() where fusedPools[i] == nil {
            guard case let .layer(pool as MaxPool2D) = op, !pool.keepsItsOwnLoop, let j = wiring[i].first, j >= 0, readers[j] == 1 else { continue }
            let activation = fusedActivations[j] != nil ? j : nil
            let c = activation.map { wiring[$0][0] } ?? j
            guard c >= 0, readers[c] == 1, case let .layer(conv as Conv2D) = operations[c],
                  !fusedAdditions.values.contains(where: { $0.convolutionIndex == c }) else { continue }
            fusedPools[i] = FusedPool(pool: pool, convolution: conv, convolutionIndex: c, activationIndex: activation)
        }
        return fusedPools.count
    }

    /// A max pool run inside the convolution before it.
    struct FusedPool {
        let pool: MaxPool2D
        let convolution: Conv2D
        let convolutionIndex: Int
        /// The fused activation between them, which passes the pooled map on.
        let activationIndex: Int?
        var between: [Int] { [convolutionIndex] + (activationIndex.map { [$0] } ?? []) }
    }

    /// The pools fused into convolutions, by the pool's position.
    private(set) var fusedPools: [Int: FusedPool] = [:]
    /// How many pools run inside convolutions.
    public var fusedPoolCount: Int { fusedPools.count }

    /// Per-sample shape of a value (-1: the network's input).
    private func shape(of value: Int) -> [Int] { value < 0 ? architecture.input : shapes[value] }

    /// A residual addition run inside the convolution that is one of its inputs.
    struct FusedAddition {
        let addition: Elementwise
        let convolution: Conv2D
        let convolutionIndex: Int
        /// The addition's other input, added in the convolution's epilogue.
        let residual: Int
    }

    /// The additions fused into convolutions, by the addition's position.
    private(set) var fusedAdditions: [Int: FusedAddition] = [:]
    /// How many additions run inside convolutions.
    public var fusedAdditionCount: Int { fusedAdditions.count }

    /// An activation run inside the layer before it.
    struct FusedActivation {
        let layer: any Layer
        /// Turns the activation on or off in the layer before.
        let enable: (Bool) -> Void
    }

    /// The activations fused into the layers before them, by the activation's position.
    private var fusedActivations: [Int: FusedActivation] = [:]

    /// The operation that computes layer `i` in a pass that records (unfused) or not.
    func operation(_ i: Int, recording: Bool) -> Operation {
        if recording, let pair = fusedActivations[i] { return .layer(pair.layer) }
        return operations[i]
    }

    /// The layers of the last recording forward pass and the batch it ran on: what a
    /// backward pass may start from.
    var recorded: (layers: Set<Int>, batch: Int, replaced: Set<Int>) = ([], 0, [])

    /// Called after each layer of a forward pass with its position and nanoseconds
    /// (`ModelBenchmark.profile`: layers timed inside whole passes, caches as they are).
    var layerTimer: ((Int, UInt64) -> Void)?

    /// Runs the network on a batch `[N, C, H, W]` up to layer `last` (default: the
    /// output), computing only what it depends on. Returns the outputs of `last` and of
    /// the layers in `keep`; other values are freed as soon as no later layer needs them.
    /// Layers in `replacing` are not computed: their given values (batch N) go on, and
    /// what only they needed is not computed either (an ablated or edited activation).
    public func forward(_ x: Tensor, mode: Mode, through last: Int? = nil, keep: Set<Int> = [],
                        replacing: [Int: Tensor] = [:]) -> [Int: Tensor] {
        let last = last ?? operations.count - 1
        let needed = Wiring.ancestors(of: [last] + keep.filter { $0 <= last }, in: wiring, stoppingAt: Set(replacing.keys))
        // The last layer that reads each value, so it can be dropped after.
        var lastReader = [Int: Int]()
        for i in needed.sorted() { for j in wiring[i] { lastReader[j] = i } }
        var values: [Int: Tensor] = [-1: x]
        let recording = mode.recordsForBackward
        for pair in fusedActivations.values { pair.enable(!recording) }
        if recording { recorded = (needed, x.shape[0], Set(replacing.keys)) }
        // The fused additions this pass runs, by the addition's and by the convolution's position.
        let additions = recording ? [:] : fusedAdditions.filter { i, fused in
            let c = fused.convolutionIndex
            return needed.contains(i) && replacing[i] == nil && replacing[c] == nil && c != last && !keep.contains(c)
        }
        let additionOf = Dictionary(uniqueKeysWithValues: additions.map { ($1.convolutionIndex, $0) })
        // The fused pools this pass runs, by the pool's position, and the values between
        // (the convolution's and its activation's), which hold the pooled map.
        let pools = recording ? [:] : fusedPools.filter { i, fused in
            needed.contains(i) && replacing[i] == nil && fused.between.allSatisfy { needed.contains($0) && replacing[$0] == nil && $0 != last && !keep.contains($0) }
        }
        let poolOf = Dictionary(uniqueKeysWithValues: pools.map { ($1.convolutionIndex, $1.pool) })
        let passesPooled = Set(pools.flatMap { [$0.key] + $0.value.between.dropFirst() })
        for i in 0...last where needed.contains(i) {
            if let given = replacing[i] {
                precondition(given.shape == [x.shape[0]] + shapes[i], "\(operations[i].name): replaced by \(given.shape)")
                values[i] = given
                continue
            }
            let start = layerTimer == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            if let add = additionOf[i], let fused = additions[add] {
                // The residual goes into the convolution; when the addition is its only reader
                // from here on, the graph lets it go and its storage becomes the output
                // (otherwise, or while `input` is the same value, it is copied on write).
                let (r, input) = (fused.residual, values[wiring[i][0]]!)
                fused.convolution.residual = values[r]!
                let readLater = (i + 1..<add).contains { needed.contains($0) && wiring[$0].contains(r) }
                if lastReader[r] == add && r != last && !keep.contains(r) && !readLater { values[r] = nil }
                fused.convolution.rectifiesOutput = fused.addition.rectifiesOutput
                values[i] = fused.convolution.forward(input, mode: mode)
                fused.convolution.rectifiesOutput = false
            } else if let fused = additions[i] {
                values[i] = values[fused.convolutionIndex]!
            } else if let pool = poolOf[i], case let .layer(conv as Conv2D) = operations[i] {
                conv.pooling = pool
                values[i] = conv.forward(values[wiring[i][0]]!, mode: mode)
            } else if passesPooled.contains(i) {
                values[i] = values[wiring[i][0]]!
            } else {
                let inputs = wiring[i].map { values[$0]! }
                switch operation(i, recording: recording) {
                case let .layer(layer): values[i] = layer.forward(inputs[0], mode: mode)
                case let .merge(merge): values[i] = merge.forward(inputs, mode: mode)
                }
            }
            layerTimer?(i, DispatchTime.now().uptimeNanoseconds - start)
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
    /// several layers add up; parameters' gradients accumulate as in training. A caller
    /// that cannot guarantee the recording forward pass uses `gradients(_:from:at:)`,
    /// which throws instead.
    public func inputGradient(_ gradOutput: Tensor, from last: Int) -> Tensor {
        do {
            return try gradients(gradOutput, from: last, at: [-1], parameterGradients: true)[-1]!
        } catch {
            preconditionFailure("\(error)")
        }
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
