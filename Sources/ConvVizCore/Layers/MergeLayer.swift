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
    /// Inference only: the ReLU that follows an addition runs here, in the same pass
    /// (`Graph.fusingActivations`); never set for a recording pass.
    public var rectifiesOutput = false
    private var cachedInputs: [Tensor] = []

    public init(name: String, _ operation: Operation) {
        self.name = name
        self.operation = operation
    }

    /// The output as runs along its merged last axes: for each run, where it starts in
    /// the output and in each input, and each input's step along it (0 where the input
    /// is broadcast). Adjacent axes that step alike in both inputs are merged first, so
    /// a squeeze-excitation scale `[N, C, 1, 1]` times `[N, C, H, W]` makes N*C runs of
    /// H*W: no index is stored per element.
    private static func forEachRun(_ a: [Int], _ b: [Int], output: [Int],
                                   _ body: (_ out: Int, _ ia: Int, _ ib: Int, _ count: Int, _ stepA: Int, _ stepB: Int) -> Void) {
        func strides(_ shape: [Int]) -> [Int] {
            var result = [Int](repeating: 0, count: shape.count), step = 1
            for axis in stride(from: shape.count - 1, through: 0, by: -1) {
                result[axis] = shape[axis] == 1 ? 0 : step
                step *= shape[axis]
            }
            return result
        }
        // Merge axis k into k+1 when both inputs step over k as over one longer k+1.
        var dims: [(size: Int, sa: Int, sb: Int)] = []
        for (size, (sa, sb)) in zip(output, zip(strides(a), strides(b))) where size != 1 {
            if let last = dims.last, last.sa == sa * size || (last.sa == 0 && sa == 0), last.sb == sb * size || (last.sb == 0 && sb == 0) {
                dims[dims.count - 1] = (last.size * size, sa, sb)
            } else {
                dims.append((size, sa, sb))
            }
        }
        guard let inner = dims.popLast() else { body(0, 0, 0, 1, 0, 0); return }
        let outer = dims.reduce(1) { $0 * $1.size }
        var coordinate = [Int](repeating: 0, count: dims.count)
        var (ia, ib) = (0, 0)
        for run in 0..<outer {
            body(run * inner.size, ia, ib, inner.size, inner.sa, inner.sb)
            var axis = dims.count - 1
            while axis >= 0 {
                coordinate[axis] += 1
                ia += dims[axis].sa; ib += dims[axis].sb
                if coordinate[axis] < dims[axis].size { break }
                ia -= dims[axis].sa * dims[axis].size; ib -= dims[axis].sb * dims[axis].size
                coordinate[axis] = 0
                axis -= 1
            }
        }
    }

    private static func outputShape(_ a: [Int], _ b: [Int]) -> [Int] {
        precondition(a.count == b.count, "elementwise inputs \(a) and \(b)")
        return zip(a, b).map { Swift.max($0, $1) }
    }

    public func forward(_ inputs: [Tensor], mode: Mode) -> Tensor {
        precondition(inputs.count == 2, "\(name): two inputs")
        let (a, b) = (inputs[0], inputs[1])
        let shape = Self.outputShape(a.shape, b.shape)
        precondition(!(rectifiesOutput && mode.recordsForBackward), "\(name): a fused ReLU has no backward pass")
        if mode.recordsForBackward { cachedInputs = inputs }
        if a.shape == b.shape {
            var y = Tensor(uninitializedShape: shape)
            a.data.withUnsafeBufferPointer { ab in b.data.withUnsafeBufferPointer { bb in y.data.withUnsafeMutableBufferPointer { yb in
                let (x, z, out) = (ab.baseAddress!, bb.baseAddress!, yb.baseAddress!)
                let (op, rectifies) = (operation, rectifiesOutput)
                Parallel.forEachRange(ab.count, minimumPerPart: 1 << 14) { _, r in
                    switch (op, rectifies) {
                    case (.add, true): for i in r { out[i] = Vector.rectified(x[i] + z[i]) }
                    case (.add, false): for i in r { out[i] = x[i] + z[i] }
                    case (.multiply, _): for i in r { out[i] = x[i] * z[i] }
                    }
                }
            }}}
            return y
        }
        var y = Tensor(uninitializedShape: shape)
        let op = operation
        a.data.withUnsafeBufferPointer { ab in b.data.withUnsafeBufferPointer { bb in y.data.withUnsafeMutableBufferPointer { yb in
            let (x, z, out) = (ab.baseAddress!, bb.baseAddress!, yb.baseAddress!)
            Self.forEachRun(a.shape, b.shape, output: shape) { o, ia, ib, count, sa, sb in
                if op == .add { for k in 0..<count { out[o + k] = x[ia + k * sa] + z[ib + k * sb] } } else {
                    for k in 0..<count { out[o + k] = x[ia + k * sa] * z[ib + k * sb] }
                }
            }
        }}}
        if rectifiesOutput { y.data.withUnsafeMutableBufferPointer { Vector.rectify($0.baseAddress!, count: $0.count) } }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> [Tensor] {
        precondition(cachedInputs.count == 2, "\(name): backward without a recording forward")
        let (a, b) = (cachedInputs[0], cachedInputs[1])
        let shape = gradOutput.shape
        // A residual sum without broadcasting passes its gradient to both inputs as it is
        // (shared storage, copied only if someone writes to it).
        if operation == .add && a.shape == shape && b.shape == shape { return [gradOutput, gradOutput] }
        var da = Tensor(shape: a.shape), db = Tensor(shape: b.shape)
        let op = operation
        gradOutput.data.withUnsafeBufferPointer { gb in a.data.withUnsafeBufferPointer { ab in b.data.withUnsafeBufferPointer { bb in
        da.data.withUnsafeMutableBufferPointer { dab in db.data.withUnsafeMutableBufferPointer { dbb in
            let (g, x, z, dx, dz) = (gb.baseAddress!, ab.baseAddress!, bb.baseAddress!, dab.baseAddress!, dbb.baseAddress!)
            Self.forEachRun(a.shape, b.shape, output: shape) { o, ia, ib, count, sa, sb in
                switch op {
                case .add:
                    for k in 0..<count { dx[ia + k * sa] += g[o + k]; dz[ib + k * sb] += g[o + k] }
                case .multiply:
                    for k in 0..<count {
                        let v = g[o + k]
                        dx[ia + k * sa] += v * z[ib + k * sb]; dz[ib + k * sb] += v * x[ia + k * sa]
                    }
                }
            }
        }}}}}
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
