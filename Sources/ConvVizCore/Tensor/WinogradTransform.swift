import Foundation

/// The three matrices of Winograd's minimal filtering F(2, r), built by Toom-Cook from
/// interpolation points (Lavin & Gray 2016, section 4; Barabasz et al. 2020 on the
/// choice of points): `r`-tap correlations computed two outputs at a time from
/// `alpha = r + 1` inputs with `alpha` multiplications instead of `2r`.
///
/// A linear convolution `s = g * h` of an `r`-tap and a 2-tap polynomial is fixed by its
/// values at `alpha - 1` points and its leading coefficient ("the point at infinity"):
/// `V s = (E_g g) ⊙ (E_h h)` with `V` the Vandermonde matrix of the points. Correlation is
/// that convolution transposed in `h`, so `y = A^T [(G g) ⊙ (B^T d)]` with `G = E_g`,
/// `A^T = E_h^T` and `B^T = (V^-1)^T`. In 2-D each is applied along both axes:
/// `Y = A^T [(G g G^T) ⊙ (B^T d B)] A`.
///
/// `WinogradTiles` applies these matrices to eight tiles at a time with the arithmetic
/// written out (a test checks them against the matrices).
struct WinogradTransform: Sendable {
    /// Kernel taps `r`; tiles are `alpha x alpha` inputs for `m x m` outputs.
    let kernel: Int
    /// Outputs per tile side `m`: 2, or 4 for F(4x4, 3x3).
    let outputs: Int
    var alpha: Int { kernel + outputs - 1 }
    /// `[alpha, alpha]`, row-major.
    let inputTransposed: [Float]
    /// `G`, `[alpha, kernel]`.
    let kernelMatrix: [Float]
    /// `A^T`, `[m, alpha]`.
    let outputTransposed: [Float]
    /// `G ⊗ G`, `[alpha^2, kernel^2]`: `U = G g G^T` of a kernel `g` (taps in row-major
    /// order) is this matrix times `g`'s taps.
    let kernelProduct: [Float]


    /// F(2, 3) on the points 0, 1, -1 (the textbook matrices up to signs) and F(2, 5) on
    /// 0, 1, -1, 1/2, -1/2. With B^T's rows scaled to integers, 0, ±1, ±2 give the same
    /// float32 errors (`Benchmarks/winograd_error.py`).
    static let threeByThree = WinogradTransform(points: [0, 1, -1])
    static let fiveByFive = WinogradTransform(points: [0, 1, -1, 0.5, -0.5])
    /// F(4, 3) on 0, 1, -1, 2, -2 (Lavin & Gray's matrices up to row scaling): 4x fewer
    /// multiplications than the direct method, against F(2, 3)'s 2.25x, with a larger
    /// float32 error (`WinogradConvolutionTests` bounds it); inference only.
    static let threeByThreeFourOutputs = WinogradTransform(points: [0, 1, -1, 2, -2], outputs: 4)

    /// The transform for a square kernel of `taps`, if there is one (its tile arithmetic:
    /// `WinogradTiles3`, `WinogradTiles5`, chosen by `Conv2D`'s passes).
    static func forKernel(_ taps: Int) -> WinogradTransform? {
        switch taps {
        case 3: threeByThree
        case 5: fiveByFive
        default: nil
        }
    }

    /// Builds F(m, r) from `alpha - 1 = m + r - 2` finite points.
    init(points: [Double], outputs m: Int = 2) {
        let alpha = points.count + 1, r = alpha - m + 1
        kernel = r
        outputs = m
        // Rows of E: the values of 1, x, x^2, ... at each point; the last row keeps the
        // leading coefficient.
        func evaluation(_ columns: Int) -> [[Double]] {
            points.map { p in (0..<columns).map { pow(p, Double($0)) } } + [(0..<columns).map { $0 == columns - 1 ? 1 : 0 }]
        }
        let g = evaluation(r), h = evaluation(m), vandermonde = evaluation(alpha)
        let inverse = WinogradTransform.invert(vandermonde)
        // B^T = (V^-1)^T, each row divided by its smallest nonzero entry (and G's row
        // multiplied by it): the input transform, which runs for every tile, then has
        // small integer entries, exact in float; the fractions move into the kernels'
        // transform.
        var bt = (0..<alpha).map { i in (0..<alpha).map { j in inverse[j][i] } }
        var gScaled = g
        for i in 0..<alpha {
            let scale = bt[i].map(abs).filter { $0 > 1e-12 }.min() ?? 1
            bt[i] = bt[i].map { entry in
                let integer = (entry / scale).rounded()
                precondition(abs(entry / scale - integer) < 1e-9, "B^T row \(i) is not integer after scaling")
                return integer
            }
            gScaled[i] = gScaled[i].map { $0 * scale }
        }
        inputTransposed = bt.flatMap { $0.map(Float.init) }
        kernelMatrix = gScaled.flatMap { $0.map(Float.init) }
        kernelProduct = (0..<alpha * alpha).flatMap { xi in
            (0..<r * r).map { tap in Float(gScaled[xi / alpha][tap / r] * gScaled[xi % alpha][tap % r]) }
        }
        outputTransposed = (0..<m).flatMap { i in (0..<alpha).map { j in Float(h[j][i]) } }
    }

    /// Gauss-Jordan with partial pivoting; the Vandermonde matrices here are small and
    /// well away from singular.
    private static func invert(_ m: [[Double]]) -> [[Double]] {
        let n = m.count
        var a = m, inv = (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
        for col in 0..<n {
            let pivot = (col..<n).max { abs(a[$0][col]) < abs(a[$1][col]) }!
            a.swapAt(col, pivot); inv.swapAt(col, pivot)
            let d = a[col][col]
            a[col] = a[col].map { $0 / d }; inv[col] = inv[col].map { $0 / d }
            for row in 0..<n where row != col {
                let f = a[row][col]
                if f == 0 { continue }
                for k in 0..<n { a[row][k] -= f * a[col][k]; inv[row][k] -= f * inv[col][k] }
            }
        }
        return inv
    }
}
