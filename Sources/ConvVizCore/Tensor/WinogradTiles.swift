/// The matrices of `WinogradTransform` with their arithmetic written out, applied to eight
/// tiles at once (one SIMD lane per tile): the tile transforms run for every tile of every
/// channel, and loops over matrix entries cost several times the products they save.
/// `Winograd`'s transforms are generic over this protocol, so each kernel size gets its own
/// compiled code. `WinogradConvolutionTests` checks every function against the matrices.
///
/// Each function reads `alpha` (or 2) vectors at `x[0], x[s], x[2s], ...` and writes its
/// results at `y[0], y[t], y[2t], ...`: with `s = 1` along a tile's row, with
/// `s = alpha` down its columns.
protocol WinogradTiles {
    static var transform: WinogradTransform { get }
    /// `transform.alpha` as a constant, so that the loops over a tile unroll.
    static var alpha: Int { get }
    /// `transform.outputs` (`m`) as a constant.
    static var outputs: Int { get }
    /// `B^T x`: alpha -> alpha.
    static func input(_ x: UnsafePointer<SIMD8<Float>>, _ s: Int, _ y: UnsafeMutablePointer<SIMD8<Float>>, _ t: Int)
    /// `A^T x`: alpha -> m.
    static func output(_ x: UnsafePointer<SIMD8<Float>>, _ s: Int, _ y: UnsafeMutablePointer<SIMD8<Float>>, _ t: Int)
    /// `A x`: m -> alpha (the adjoint of `output`).
    static func outputAdjoint(_ x: UnsafePointer<SIMD8<Float>>, _ s: Int, _ y: UnsafeMutablePointer<SIMD8<Float>>, _ t: Int)
}

extension WinogradTiles {
    static var outputs: Int { 2 }
}

/// F(2, 3) on the points 0, 1, -1.
enum WinogradTiles3: WinogradTiles {
    static var transform: WinogradTransform { .threeByThree }
    static var alpha: Int { 4 }

    @inline(__always)
    static func input(_ x: UnsafePointer<SIMD8<Float>>, _ s: Int, _ y: UnsafeMutablePointer<SIMD8<Float>>, _ t: Int) {
        let (d0, d1, d2, d3) = (x[0], x[s], x[2 &* s], x[3 &* s])
        y[0] = d0 - d2; y[t] = d1 + d2; y[2 &* t] = d2 - d1; y[3 &* t] = d3 - d1
    }

    @inline(__always)
    static func output(_ x: UnsafePointer<SIMD8<Float>>, _ s: Int, _ y: UnsafeMutablePointer<SIMD8<Float>>, _ t: Int) {
        let (m1, m2) = (x[s], x[2 &* s])
        y[0] = x[0] + m1 + m2; y[t] = m1 - m2 + x[3 &* s]
    }

    @inline(__always)
    static func outputAdjoint(_ x: UnsafePointer<SIMD8<Float>>, _ s: Int, _ y: UnsafeMutablePointer<SIMD8<Float>>, _ t: Int) {
        let (g0, g1) = (x[0], x[s])
        y[0] = g0; y[t] = g0 + g1; y[2 &* t] = g0 - g1; y[3 &* t] = g1
    }
}

/// F(2, 5) on the points 0, 1, -1, 1/2, -1/2.
enum WinogradTiles5: WinogradTiles {
    static var transform: WinogradTransform { .fiveByFive }
    static var alpha: Int { 6 }

    @inline(__always)
    static func input(_ x: UnsafePointer<SIMD8<Float>>, _ s: Int, _ y: UnsafeMutablePointer<SIMD8<Float>>, _ t: Int) {
        let (d0, d1, d2, d3, d4, d5) = (x[0], x[s], x[2 &* s], x[3 &* s], x[4 &* s], x[5 &* s])
        let four = SIMD8<Float>(repeating: 4), five = SIMD8<Float>(repeating: 5), two = SIMD8<Float>(repeating: 2)
        let sum34 = four * (d3 + d4), diff43 = four * (d4 - d3)
        let a = two * (d2 - d4), b = d1 - d3
        y[0] = d0 - five * d2 + four * d4
        y[t] = sum34 - d1 - d2
        y[2 &* t] = diff43 + d1 - d2
        y[3 &* t] = a + b
        y[4 &* t] = a - b
        y[5 &* t] = d1 - five * d3 + four * d5
    }

    @inline(__always)
    static func output(_ x: UnsafePointer<SIMD8<Float>>, _ s: Int, _ y: UnsafeMutablePointer<SIMD8<Float>>, _ t: Int) {
        let (m1, m2, m3, m4) = (x[s], x[2 &* s], x[3 &* s], x[4 &* s])
        let half = SIMD8<Float>(repeating: 0.5)
        y[0] = x[0] + (m1 + m2) + (m3 + m4)
        y[t] = (m1 - m2) + half * (m3 - m4) + x[5 &* s]
    }

    @inline(__always)
    static func outputAdjoint(_ x: UnsafePointer<SIMD8<Float>>, _ s: Int, _ y: UnsafeMutablePointer<SIMD8<Float>>, _ t: Int) {
        let (g0, g1) = (x[0], x[s])
        let half = SIMD8<Float>(repeating: 0.5) * g1
        y[0] = g0; y[t] = g0 + g1; y[2 &* t] = g0 - g1; y[3 &* t] = g0 + half; y[4 &* t] = g0 - half; y[5 &* t] = g1
    }
}

/// F(4, 3) on the points 0, 1, -1, 2, -2: 4x4 outputs from 6x6 tiles (inference only).
enum WinogradTiles3x4: WinogradTiles {
    static var transform: WinogradTransform { .threeByThreeFourOutputs }
    static var alpha: Int { 6 }
    static var outputs: Int { 4 }

    @inline(__always)
    static func input(_ x: UnsafePointer<SIMD8<Float>>, _ s: Int, _ y: UnsafeMutablePointer<SIMD8<Float>>, _ t: Int) {
        let (d0, d1, d2, d3, d4, d5) = (x[0], x[s], x[2 &* s], x[3 &* s], x[4 &* s], x[5 &* s])
        let four = SIMD8<Float>(repeating: 4), five = SIMD8<Float>(repeating: 5), two = SIMD8<Float>(repeating: 2)
        let d42 = d4 - d2
        y[0] = four * d0 - five * d2 + d4
        y[t] = four * (d1 + d2) - (d3 + d4)
        y[2 &* t] = four * (d2 - d1) + (d3 - d4)
        y[3 &* t] = two * (d3 - d1) + d42
        y[4 &* t] = two * (d1 - d3) + d42
        y[5 &* t] = four * d1 - five * d3 + d5
    }

    @inline(__always)
    static func output(_ x: UnsafePointer<SIMD8<Float>>, _ s: Int, _ y: UnsafeMutablePointer<SIMD8<Float>>, _ t: Int) {
        let (x1, x2, x3, x4) = (x[s], x[2 &* s], x[3 &* s], x[4 &* s])
        let a = x1 + x2, b = x1 - x2, c = x3 + x4, d = x3 - x4
        y[0] = x[0] + a + c
        y[t] = b + SIMD8(repeating: 2) * d
        y[2 &* t] = a + SIMD8(repeating: 4) * c
        y[3 &* t] = b + SIMD8(repeating: 8) * d + x[5 &* s]
    }

    @inline(__always)
    static func outputAdjoint(_ x: UnsafePointer<SIMD8<Float>>, _ s: Int, _ y: UnsafeMutablePointer<SIMD8<Float>>, _ t: Int) {
        let (g0, g1, g2, g3) = (x[0], x[s], x[2 &* s], x[3 &* s])
        let even = g0 + g2, odd = g1 + g3
        let even4 = g0 + SIMD8(repeating: 4) * g2, odd2 = SIMD8(repeating: 2) * g1 + SIMD8(repeating: 8) * g3
        y[0] = g0; y[t] = even + odd; y[2 &* t] = even - odd; y[3 &* t] = even4 + odd2; y[4 &* t] = even4 - odd2; y[5 &* t] = g3
    }
}
