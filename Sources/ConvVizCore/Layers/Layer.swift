/// What a forward pass is for.
public enum Mode: Sendable {
    /// Batch statistics, running statistics updated, caches kept for `backward`.
    case training
    /// Running statistics, nothing cached: inference.
    case evaluation
    /// Evaluation semantics (running statistics, no updates) with caches kept, so that
    /// `backward` gives gradients of the deployed network, e.g. for the effective
    /// receptive field.
    case evaluationWithGradients

    /// Whether layers keep what `backward` needs.
    public var recordsForBackward: Bool { self != .evaluation }
    /// Whether BatchNorm normalizes with the batch's own statistics.
    public var usesBatchStatistics: Bool { self == .training }
}

/// A named tensor owned by a layer, with its gradient.
///
/// Trainable parameters get gradients from `backward` and are updated by the optimizer;
/// buffers (BatchNorm's running statistics) are state saved in checkpoints but never
/// given gradients.
public final class Parameter {
    /// The local name (`weight`, `bias`, `running_mean`, `running_var`).
    public let name: String
    public var value: Tensor {
        get { stored ?? restored() }
        // Counts every change, in place or whole: caches derived from the value (Conv2D's
        // transformed Winograd kernels and packed panels) compare versions, not contents.
        set { stored = newValue; rebuild = nil; version &+= 1 }
        _modify {
            if stored == nil { stored = restored() }
            version &+= 1
            yield &stored!
        }
    }
    /// Changes of `value` so far.
    public private(set) var version = 0
    private var stored: Tensor?
    /// What gives a released value back (`release`).
    private var rebuild: (() -> Tensor)?
    /// How many times a released value was read again.
    private(set) var restorations = 0

    /// Frees the value while a layer holds the same numbers in another layout (Conv2D's
    /// packed panels, for inference): `rebuild` gives it back, exactly, on the next read,
    /// and the version does not change. An imported network then keeps one copy of such
    /// weights instead of two (ResNet-18: 42 MB). Called on the caller's thread, as every
    /// read of `value` is (layers hand pointers to their workers).
    func release(rebuild: @escaping () -> Tensor) {
        self.rebuild = rebuild
        stored = nil
    }

    /// Whether the value is released and not read since.
    var isReleased: Bool { stored == nil }

    private func restored() -> Tensor {
        let value = rebuild!()
        stored = value
        rebuild = nil
        restorations += 1
        return value
    }

    /// dL/d(value), accumulated by backward passes. Allocated (zeros) at first use:
    /// inference never touches it, so an imported network's weights are not matched by as
    /// many zeros (ResNet-18: 47 MB of peak memory). Every access is on the caller's
    /// thread (layers hand pointers to their workers), so the lazy allocation needs no lock.
    public var grad: Tensor {
        get { allocateGradient(); return storedGrad! }
        _modify { allocateGradient(); yield &storedGrad! }
        set { storedGrad = newValue }
    }
    private var storedGrad: Tensor?
    public let trainable: Bool

    public init(_ name: String, _ value: Tensor, trainable: Bool = true) {
        self.name = name
        self.stored = value
        self.trainable = trainable
    }

    private func allocateGradient() {
        if storedGrad == nil { storedGrad = Tensor(shape: trainable ? value.shape : [0]) }
    }
}

/// One layer of a `Sequential` model: a forward pass and the matching backward pass.
///
/// `forward` takes a batch `[N, ...]` and, in training mode, caches what `backward`
/// needs. `backward` takes dL/d(output), **accumulates** dL/d(parameter) into each
/// parameter's `grad`, and returns dL/d(input) when asked for it (the first layer of a
/// network need not compute it).
public protocol Layer: AnyObject {
    /// The layer's name in checkpoints (`conv1`, `bn1`, `fc`).
    var name: String { get }
    /// Per-sample output shape for a per-sample input shape (no batch dimension).
    func outputShape(for input: [Int]) throws -> [Int]
    func forward(_ input: Tensor, mode: Mode) -> Tensor
    func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor?
    /// Trainable parameters and buffers, in checkpoint order.
    var parameters: [Parameter] { get }
}

extension Layer {
    public var parameters: [Parameter] { [] }
}

/// A layer whose backward pass can leave its parameters' gradients out: input
/// gradients alone for attribution and feature visualization (`Graph.gradients`), about
/// half the work of training's backward pass in the layers that hold the products.
public protocol ParameterGradientToggle: Layer {
    /// Whether `backward` adds the parameters' gradients (training, the default).
    var accumulatesParameterGradients: Bool { get set }
}

/// A problem with a layer's configuration or its input shape.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    public let layer: String
    public let message: String
    public init(layer: String, _ message: String) { self.layer = layer; self.message = message }
    public var description: String { "layer '\(layer)': \(message)" }
}
