/// Rectified linear unit, `max(0, x)`; its gradient at exactly 0 is 0 (PyTorch's
/// convention).
public final class ReLU: Layer {
    public let name: String
    private var cachedOutput: Tensor?

    public init(name: String) { self.name = name }

    public func outputShape(for input: [Int]) throws -> [Int] { input }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        var y = Tensor(uninitializedShape: input.shape)
        input.data.withUnsafeBufferPointer { xb in
            y.data.withUnsafeMutableBufferPointer { yb in
                let x = xb.baseAddress!, out = yb.baseAddress!
                // NaN stays NaN (max would hide it); every other value is max(0, v).
                Parallel.forEachRange(xb.count, minimumPerPart: 1 << 14) { _, r in
                    for i in r { let v = x[i]; out[i] = v > 0 || v.isNaN ? v : 0 }
                }
            }
        }
        if mode.recordsForBackward { cachedOutput = y }
        return y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        needsInputGradient ? backward(gradOutput, rule: .plain) : nil
    }

    /// dL/d(input) by one of the rules (`ReLURule`): the gradient (`plain`), guided
    /// backpropagation, the deconvnet, or Lucid's redirected gradient (per image).
    public func backward(_ gradOutput: Tensor, rule: ReLURule) -> Tensor {
        guard let y = cachedOutput else { preconditionFailure("\(name): backward without a training forward") }
        precondition(y.shape == gradOutput.shape, "\(name): grad \(gradOutput.shape) for output \(y.shape)")
        var dx = Tensor(uninitializedShape: gradOutput.shape)
        gradOutput.data.withUnsafeBufferPointer { gb in
        y.data.withUnsafeBufferPointer { yb in
        dx.data.withUnsafeMutableBufferPointer { db in
            let g = gb.baseAddress!, y = yb.baseAddress!, d = db.baseAddress!
            Parallel.forEachRange(gb.count, minimumPerPart: 1 << 14) { _, r in
                switch rule {
                case .guided: for i in r { d[i] = y[i] > 0 && g[i] > 0 ? g[i] : 0 }
                case .deconvnet: for i in r { d[i] = g[i] > 0 ? g[i] : 0 }
                case .plain, .redirected: for i in r { d[i] = y[i] > 0 ? g[i] : 0 }
                }
            }
            guard rule == .redirected else { return }
            let n = gradOutput.shape[0], per = gb.count / max(n, 1)
            for b in 0..<n where (b * per..<(b + 1) * per).allSatisfy({ d[$0] == 0 }) {
                for k in b * per..<(b + 1) * per { d[k] = y[k] <= 0 && g[k] > 0 ? 0 : g[k] }
            }
        }}}
        return dx
    }
}

/// Flattens `[N, C, H, W]` (or any `[N, ...]`) to `[N, C*H*W]`, in C order as
/// `torch.flatten(x, 1)` does, so a following Linear's weights match PyTorch's.
public final class Flatten: Layer {
    public let name: String
    private var inputShape: [Int] = []

    public init(name: String) { self.name = name }

    public func outputShape(for input: [Int]) throws -> [Int] { [input.reduce(1, *)] }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        inputShape = input.shape
        return input.reshaped([input.shape[0], input.count / max(1, input.shape[0])])
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        needsInputGradient ? gradOutput.reshaped(inputShape) : nil
    }
}
