/// A layer that joins branches: several inputs, one output (residual addition,
/// squeeze-excitation scaling, concatenation).
///
/// `forward` takes the inputs in the order the architecture names them; `backward`
/// returns dL/d(input) for each, in the same order.
public protocol MergeLayer: AnyObject {
    var name: String { get }
    func forward(_ inputs: [Tensor], mode: Mode) -> Tensor
    func backward(_ gradOutput: Tensor) -> [Tensor]
}

/// Elementwise addition or multiplication of two tensors of one shape, or with
/// broadcasting where one has size 1 along an axis (a `[N, C, 1, 1]` scale times a
/// `[N, C, H, W]` map).
public final class Elementwise: MergeLayer {
    public enum Operation: Sendable { case add, multiply }

    public let name: String
    public let operation: Operation
    private var cachedInputs: [Tensor] = []

    public init(name: String, _ operation: Operation) {
        self.name = name
        self.operation = operation
    }

    /// For each output element, the index it reads in an input of `shape` (broadcast
    /// axes read index 0). Nil when the input has the output's shape.
    private static func broadcastIndices(_ shape: [Int], to output: [Int]) -> [Int]? {
        guard shape != output else { return nil }
        var strides = [Int](repeating: 0, count: shape.count), step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = shape[axis] == 1 ? 0 : step
            step *= shape[axis]
        }
        let count = output.reduce(1, *)
        var indices = [Int](repeating: 0, count: count)
        var coordinate = [Int](repeating: 0, count: output.count)
        for i in 0..<count {
            var flat = 0
            for axis in 0..<output.count { flat += coordinate[axis] * strides[axis] }
            indices[i] = flat
            var axis = output.count - 1
            while axis >= 0 {
                coordinate[axis] += 1
                if coordinate[axis] < output[axis] { break }
                coordinate[axis] = 0
                axis -= 1
            }
        }
        return indices
    }

    private static func outputShape(_ a: [Int], _ b: [Int]) -> [Int] {
        precondition(a.count == b.count, "elementwise inputs \(a) and \(b)")
        return zip(a, b).map { Swift.max($0, $1) }
    }

    public func forward(_ inputs: [Tensor], mode: Mode) -> Tensor {
        precondition(inputs.count == 2, "\(name): two inputs")
        let (a, b) = (inputs[0], inputs[1])
        let shape = Self.outputShape(a.shape, b.shape)
        if mode.recordsForBackward { cachedInputs = inputs }
        if a.shape == b.shape {
            var y = Tensor(uninitializedShape: shape)
            a.data.withUnsafeBufferPointer { ab in b.data.withUnsafeBufferPointer { bb in y.data.withUnsafeMutableBufferPointer { yb in
                let (x, z, out) = (ab.baseAddress!, bb.baseAddress!, yb.baseAddress!)
                let op = operation
                Parallel.forEachRange(ab.count, minimumPerPart: 1 << 14) { _, r in
                    if op == .add { for i in r { out[i] = x[i] + z[i] } } else { for i in r { out[i] = x[i] * z[i] } }
                }
            }}}
            return y
        }
        let ia = Self.broadcastIndices(a.shape, to: shape), ib = Self.broadcastIndices(b.shape, to: shape)
        var y = Tensor(uninitializedShape: shape)
        for i in 0..<y.count {
            let u = a.data[ia?[i] ?? i], v = b.data[ib?[i] ?? i]
            y.data[i] = operation == .add ? u + v : u * v
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> [Tensor] {
        precondition(cachedInputs.count == 2, "\(name): backward without a recording forward")
        let (a, b) = (cachedInputs[0], cachedInputs[1])
        let shape = gradOutput.shape
        let ia = Self.broadcastIndices(a.shape, to: shape), ib = Self.broadcastIndices(b.shape, to: shape)
        var da = Tensor(shape: a.shape), db = Tensor(shape: b.shape)
        for i in 0..<gradOutput.count {
            let g = gradOutput.data[i], (ja, jb) = (ia?[i] ?? i, ib?[i] ?? i)
            switch operation {
            case .add: da.data[ja] += g; db.data[jb] += g
            case .multiply: da.data[ja] += g * b.data[jb]; db.data[jb] += g * a.data[ja]
            }
        }
        return [da, db]
    }
}

/// Concatenation along channels: `[N, C_1, H, W]`, `[N, C_2, H, W]`, ... ->
/// `[N, C_1 + C_2 + ..., H, W]` (Inception's branches, DenseNet's growth).
public final class Concat: MergeLayer {
    public let name: String
    private var channelCounts: [Int] = []

    public init(name: String) { self.name = name }

    public func forward(_ inputs: [Tensor], mode: Mode) -> Tensor {
        let first = inputs[0].shape
        let (n, h, w) = (first[0], first[2], first[3])
        let channels = inputs.map { $0.shape[1] }
        var y = Tensor(uninitializedShape: [n, channels.reduce(0, +), h, w])
        let plane = h * w, total = channels.reduce(0, +)
        for sample in 0..<n {
            var offset = 0
            for (input, c) in zip(inputs, channels) {
                precondition(input.shape == [n, c, h, w], "\(name): input \(input.shape)")
                let count = c * plane
                y.data.withUnsafeMutableBufferPointer { yb in input.data.withUnsafeBufferPointer { xb in
                    (yb.baseAddress! + (sample * total + offset) * plane).update(from: xb.baseAddress! + sample * count, count: count)
                }}
                offset += c
            }
        }
        if mode.recordsForBackward { channelCounts = channels }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> [Tensor] {
        let (n, total, h, w) = (gradOutput.shape[0], gradOutput.shape[1], gradOutput.shape[2], gradOutput.shape[3])
        let plane = h * w
        var offset = 0
        return channelCounts.map { c in
            var dx = Tensor(uninitializedShape: [n, c, h, w])
            dx.data.withUnsafeMutableBufferPointer { db in gradOutput.data.withUnsafeBufferPointer { gb in
                for sample in 0..<n {
                    (db.baseAddress! + sample * c * plane).update(from: gb.baseAddress! + (sample * total + offset) * plane, count: c * plane)
                }
            }}
            offset += c
            return dx
        }
    }
}
