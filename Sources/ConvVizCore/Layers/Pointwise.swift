import Foundation

/// An activation applied to every element on its own: clip (ReLU6), leaky ReLU,
/// sigmoid, hard sigmoid, hard swish, SiLU, or the identity (dropout at evaluation).
/// ReLU has its own faster layer, which the fused BatchNorm block recognises.
public final class Pointwise: Layer {
    public enum Function: Equatable, Sendable {
        case clip(min: Float, max: Float)
        case leakyReLU(slope: Float)
        case sigmoid
        /// `clip(x / 6 + 1/2, 0, 1)`, PyTorch's and ONNX's (alpha 1/6, beta 0.5).
        case hardSigmoid
        /// `x * hardSigmoid(x)`.
        case hardSwish
        /// `x * sigmoid(x)` (swish).
        case silu
        case identity

        @inline(__always)
        func value(_ x: Float) -> Float {
            switch self {
            case let .clip(lo, hi): return x.isNaN ? x : Swift.min(Swift.max(x, lo), hi)
            case let .leakyReLU(slope): return x >= 0 ? x : slope * x
            case .sigmoid: return 1 / (1 + exp(-x))
            case .hardSigmoid: return Swift.min(Swift.max(x / 6 + 0.5, 0), 1)
            case .hardSwish: return x * Swift.min(Swift.max(x / 6 + 0.5, 0), 1)
            case .silu: return x / (1 + exp(-x))
            case .identity: return x
            }
        }

        /// d value / dx at `x` (PyTorch's choices at the kinks).
        @inline(__always)
        func derivative(_ x: Float) -> Float {
            switch self {
            case let .clip(lo, hi): return x > lo && x < hi ? 1 : 0
            case let .leakyReLU(slope): return x > 0 ? 1 : slope
            case .sigmoid: let s = 1 / (1 + exp(-x)); return s * (1 - s)
            case .hardSigmoid: return x > -3 && x < 3 ? 1 / 6 : 0
            case .hardSwish: return x < -3 ? 0 : x > 3 ? 1 : x / 3 + 0.5
            case .silu: let s = 1 / (1 + exp(-x)); return s * (1 + x * (1 - s))
            case .identity: return 1
            }
        }
    }

    public let name: String
    public let function: Function
    private var cachedInput: Tensor?

    public init(name: String, _ function: Function) {
        self.name = name
        self.function = function
    }

    public func outputShape(for input: [Int]) throws -> [Int] { input }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        if mode.recordsForBackward { cachedInput = input }
        if function == .identity { return input }
        var y = Tensor(uninitializedShape: input.shape)
        let f = function
        input.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
            let x = xb.baseAddress!, out = yb.baseAddress!
            Parallel.forEachRange(xb.count, minimumPerPart: 1 << 14) { _, r in
                var i = r.lowerBound
                if case let .clip(lo, hi) = f {
                    // ReLU6 on whole vectors (MobileNetV2's 35 of them: 2.7 ms of a 17 ms
                    // pass at batch 1 element by element). NaN compares false: kept.
                    while i &+ 8 <= r.upperBound {
                        let v = Vector.load(x + i)
                        Vector.store(v.replacing(with: lo, where: v .< lo).replacing(with: hi, where: v .> hi), out + i)
                        i &+= 8
                    }
                }
                while i < r.upperBound { out[i] = f.value(x[i]); i &+= 1 }
            }
        }}
        return y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        guard let input = cachedInput else { preconditionFailure("\(name): backward without a recording forward") }
        if function == .identity { return gradOutput }
        var dx = Tensor(uninitializedShape: input.shape)
        let f = function
        input.data.withUnsafeBufferPointer { xb in
        gradOutput.data.withUnsafeBufferPointer { gb in
        dx.data.withUnsafeMutableBufferPointer { db in
            let x = xb.baseAddress!, g = gb.baseAddress!, d = db.baseAddress!
            Parallel.forEachRange(xb.count, minimumPerPart: 1 << 14) { _, r in
                for i in r { d[i] = g[i] * f.derivative(x[i]) }
            }
        }}}
        return dx
    }
}
