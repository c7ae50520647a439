/// A chain of layers run in order: the model every ConvViz command trains or inspects.
public final class Sequential {
    public let layers: [Layer]
    /// Per-sample input shape `[C, H, W]`.
    public let inputShape: [Int]
    /// Per-sample output shape of every layer, in order (shape inference at build time).
    public let layerShapes: [[Int]]

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
    }

    public var outputShape: [Int] { layerShapes.last ?? inputShape }

    /// Runs every layer (or up to and including `through`).
    public func forward(_ x: Tensor, mode: Mode, through last: Int? = nil) -> Tensor {
        var h = x
        for layer in layers[0...(last ?? layers.count - 1)] { h = layer.forward(h, mode: mode) }
        return h
    }

    /// Back-propagates dL/d(output) through every layer after a training forward pass,
    /// accumulating parameter gradients. Returns dL/d(input) when asked.
    @discardableResult
    public func backward(_ gradOutput: Tensor, inputGradient: Bool = false) -> Tensor? {
        var g: Tensor? = gradOutput
        for (i, layer) in layers.enumerated().reversed() {
            guard let current = g else { break }
            g = layer.backward(current, needsInputGradient: i > 0 || inputGradient)
        }
        return g
    }

    /// Back-propagates from the output of layer `last` (after a recording forward pass
    /// through it) down to the input, returning dL/d(input).
    public func backward(_ gradOutput: Tensor, from last: Int) -> Tensor {
        var g = gradOutput
        for layer in layers[0...last].reversed() { g = layer.backward(g, needsInputGradient: true)! }
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
