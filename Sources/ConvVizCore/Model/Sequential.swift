/// A chain of layers run in order: the model every ConvViz command trains or inspects.
public final class Sequential {
    public let layers: [Layer]
    /// Per-sample input shape `[C, H, W]`.
    public let inputShape: [Int]
    /// Per-sample output shape of every layer, in order (shape inference at build time).
    public let layerShapes: [[Int]]

    /// BatchNorm → ReLU → 2x2 max-pool blocks that run fused, keyed by the index of
    /// their first layer (see `NormReLUPool`).
    private let fusedBlocks: [Int: NormReLUPool]
    /// Whether training and evaluation passes use the fused blocks (tests turn it off to
    /// compare against the layers run one by one).
    public var fusesBlocks = true
    /// First-layer indices of the blocks the last forward pass ran fused (read by
    /// `backward`, and by tests that check fusion really ran).
    public private(set) var fusedInLastForward: Set<Int> = []

    public init(inputShape: [Int], layers: [Layer]) throws {
        self.inputShape = inputShape
        self.layers = layers
        var shape = inputShape
        var shapes: [[Int]] = []
        for layer in layers {
            shape = try layer.outputShape(for: shape)
            shapes.append(shape)
        }
        layerShapes = shapes
        var blocks: [Int: NormReLUPool] = [:]
        var i = 0
        while i + 2 < layers.count {
            if let block = NormReLUPool(layers[i], layers[i + 1], layers[i + 2]) {
                blocks[i] = block
                i += 3
            } else {
                i += 1
            }
        }
        fusedBlocks = blocks
    }

    public var outputShape: [Int] { layerShapes.last ?? inputShape }

    /// Runs every layer (or up to and including `through`).
    public func forward(_ x: Tensor, mode: Mode, through last: Int? = nil) -> Tensor {
        let end = last ?? layers.count - 1
        var h = x
        var i = 0
        fusedInLastForward = []
        while i <= end {
            // Fused only where the whole block runs, and not when input gradients of
            // an evaluation pass are wanted (the block records for training only).
            if fusesBlocks, mode != .evaluationWithGradients, i + 2 <= end, let block = fusedBlocks[i] {
                h = block.forward(h, mode: mode)
                fusedInLastForward.insert(i)
                i += 3
            } else {
                h = layers[i].forward(h, mode: mode)
                i += 1
            }
        }
        return h
    }

    /// Back-propagates dL/d(output) through every layer after a training forward pass,
    /// accumulating parameter gradients. Returns dL/d(input) when asked.
    @discardableResult
    public func backward(_ gradOutput: Tensor, inputGradient: Bool = false) -> Tensor? {
        backward(gradOutput, from: layers.count - 1, inputGradient: inputGradient)
    }

    /// Back-propagates from the output of layer `last` (after a recording forward pass
    /// through it) down to the input, returning dL/d(input).
    public func backward(_ gradOutput: Tensor, from last: Int) -> Tensor {
        backward(gradOutput, from: last, inputGradient: true)!
    }

    private func backward(_ gradOutput: Tensor, from last: Int, inputGradient: Bool) -> Tensor? {
        var g: Tensor? = gradOutput
        var i = last
        while i >= 0, let current = g {
            if i >= 2, fusedInLastForward.contains(i - 2), let block = fusedBlocks[i - 2] {
                g = block.backward(current, needsInputGradient: i - 2 > 0 || inputGradient)
                i -= 3
            } else {
                g = layers[i].backward(current, needsInputGradient: i > 0 || inputGradient)
                i -= 1
            }
        }
        return g
    }

    /// Every parameter and buffer with its checkpoint name (`conv1.weight`, ...).
    public var namedParameters: [(name: String, parameter: Parameter)] {
        layers.flatMap { layer in layer.parameters.map { ("\(layer.name).\($0.name)", $0) } }
    }

    public func zeroGradients() {
        for (_, p) in namedParameters where p.trainable { p.grad.zero() }
    }

    /// Position of the layer called `name`, for `forward(_:mode:through:)`.
    public func index(ofLayer name: String) -> Int? { layers.firstIndex { $0.name == name } }
}
