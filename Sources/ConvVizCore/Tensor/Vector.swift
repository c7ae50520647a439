/// Reductions and maps over contiguous floats, eight lanes at a time.
///
/// Swift (like C) will not reorder a floating-point sum on its own, so a plain loop
/// adds one element at a time, each waiting for the last; eight partial sums let the
/// CPU overlap them. The order is fixed, so results are still deterministic.
enum Vector {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        while i &+ 8 <= count { acc += load(x + i); i &+= 8 }
        var total = acc.sum()
        while i < count { total += x[i]; i &+= 1 }
        return total
    }

    /// `sum(x - center)` and `sum((x - center)^2)`, in one pass.
    static func deviations(_ x: UnsafePointer<Float>, count: Int, from center: Float) -> (sum: Float, squares: Float) {
        var accD = SIMD8<Float>(repeating: 0), accS = accD
        let c = SIMD8<Float>(repeating: center)
        var i = 0
        while i &+ 8 <= count { let d = load(x + i) - c; accD += d; accS += d * d; i &+= 8 }
        var sum = accD.sum(), squares = accS.sum()
        while i < count { let d = x[i] - center; sum += d; squares += d * d; i &+= 1 }
        return (sum, squares)
    }

    /// `y = x * scale + shift`.
    static func affine(_ x: UnsafePointer<Float>, count: Int, scale: Float, shift: Float, into y: UnsafeMutablePointer<Float>) {
        var i = 0
        while i &+ 8 <= count { store(load(x + i) * scale + shift, y + i); i &+= 8 }
        while i < count { y[i] = x[i] * scale + shift; i &+= 1 }
    }

    /// `max(0, x)` in place, NaN kept (as `ReLU` does).
    static func rectify(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] = rectified(x[i]) }
    }

    /// ReLU's rule for one value: positive values and NaN pass, the rest (-0 too) is +0.
    @inline(__always)
    static func rectified(_ v: Float) -> Float { v > 0 || v.isNaN ? v : 0 }

    /// `Pointwise`'s clip in place: NaN passes.
    static func clip(_ x: UnsafeMutablePointer<Float>, count: Int, to range: ClosedRange<Float>) {
        let f = Pointwise.Function.clip(min: range.lowerBound, max: range.upperBound)
        for i in 0..<count { x[i] = f.value(x[i]) }
    }
}
