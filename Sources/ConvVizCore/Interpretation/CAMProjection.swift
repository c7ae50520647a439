import Foundation

/// Eigen-CAM's projection (pytorch-grad-cam's `get_2d_projection`): the activations as a
/// matrix X of pixels x channels, each channel centred over the pixels, projected on the
/// first right singular vector: X v1 = s1 u1.
///
/// Computed from the smaller Gram matrix (X X^T, pixels x pixels, or X^T X) by Jacobi's
/// eigenvalue method in Double. A singular vector's sign is arbitrary (grad-cam takes
/// LAPACK's); here the entry of largest magnitude is made positive.
enum CAMProjection {
    static func firstComponent(_ values: [Float], channels c: Int, pixels p: Int) -> [Float] {
        // X [p, c], centred per channel; NaN counts as 0 as in grad-cam.
        var x = [Double](repeating: 0, count: p * c)
        for k in 0..<c {
            var mean = 0.0
            for i in 0..<p { let v = values[k * p + i]; mean += v.isNaN ? 0 : Double(v) }
            mean /= Double(p)
            for i in 0..<p { let v = values[k * p + i]; x[i * c + k] = (v.isNaN ? 0 : Double(v)) - mean }
        }
        var projection = [Double](repeating: 0, count: p)
        if p <= c {
            // X X^T = U S^2 U^T: the projection is s1 u1.
            let (value, vector) = topEigenpair(gram(x, rows: p, columns: c, ofRows: true), n: p)
            let s1 = Swift.max(value, 0).squareRoot()
            for i in 0..<p { projection[i] = s1 * vector[i] }
        } else {
            let (_, v) = topEigenpair(gram(x, rows: p, columns: c, ofRows: false), n: c)
            for r in 0..<p { var s = 0.0; for k in 0..<c { s += x[r * c + k] * v[k] }; projection[r] = s }
        }
        if let peak = projection.max(by: { abs($0) < abs($1) }), peak < 0 { projection = projection.map { -$0 } }
        return projection.map { Float($0) }
    }

    /// X X^T (`ofRows`) or X^T X of a row-major `[rows, columns]` matrix.
    static func gram(_ x: [Double], rows: Int, columns: Int, ofRows: Bool) -> [Double] {
        let n = ofRows ? rows : columns, inner = ofRows ? columns : rows
        func at(_ i: Int, _ k: Int) -> Double { ofRows ? x[i * columns + k] : x[k * columns + i] }
        var g = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in i..<n {
            var s = 0.0
            for k in 0..<inner { s += at(i, k) * at(j, k) }
            g[i * n + j] = s; g[j * n + i] = s
        }}
        return g
    }

    /// The largest eigenvalue of a symmetric matrix and its unit eigenvector.
    static func topEigenpair(_ matrix: [Double], n: Int) -> (Double, [Double]) {
        let scale = matrix.reduce(0) { Swift.max($0, abs($1)) }
        let (values, vectors) = SymmetricEigen.jacobi(matrix, n, tolerance: Swift.max(1e-300, 1e-28 * scale * scale))
        let top = values.indices.max { values[$0] < values[$1] }!
        return (values[top], (0..<n).map { vectors[$0 * n + top] })
    }
}
