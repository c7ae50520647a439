/// Folding an evaluation-mode BatchNorm into the convolution before it.
///
/// With `scale = gamma / sqrt(running_var + eps)`:
/// `W' = W * scale[out]`, `b' = (b - running_mean) * scale + beta`,
/// so `conv'(x) = BN_eval(conv(x))` and inference needs one layer instead of two.
public enum BatchNormFolding {
    public static func fold(weight: Tensor, bias: Tensor?, gamma: Tensor, beta: Tensor,
                            runningMean: Tensor, runningVar: Tensor, eps: Float) -> (weight: Tensor, bias: Tensor) {
        let out = weight.shape[0]
        precondition([gamma, beta, runningMean, runningVar].allSatisfy { $0.count == out }, "BN has \(gamma.count) channels, conv has \(out)")
        let perFilter = weight.count / max(out, 1)
        var w = weight
        var b = Tensor(shape: [out])
        for o in 0..<out {
            // Double keeps the folded parameters as close to the two-layer result as Float allows.
            let scale = Double(gamma.data[o]) / (Double(runningVar.data[o]) + Double(eps)).squareRoot()
            for i in 0..<perFilter { w.data[o * perFilter + i] = Float(Double(weight.data[o * perFilter + i]) * scale) }
            let b0 = Double(bias?.data[o] ?? 0)
            b.data[o] = Float((b0 - Double(runningMean.data[o])) * scale + Double(beta.data[o]))
        }
        return (w, b)
    }
}
