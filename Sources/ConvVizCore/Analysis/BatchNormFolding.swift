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

extension BatchNormFolding {
    /// A network with its BatchNorms folded away.
    public struct Folded {
        public let architecture: Architecture
        public let weights: [String: Tensor]
        /// "bn1 into conv1", one per folded pair.
        public let pairs: [String]
    }

    /// Folds every BatchNorm whose input is a convolution read by nothing else (in a chain
    /// or a graph): the BatchNorm disappears, layers that read it read the convolution,
    /// and the convolution gains a bias where it had none.
    public static func fold(_ architecture: Architecture, weights: consuming [String: Tensor], file: String) throws -> Folded {
        let wiring = try architecture.wiring()
        let readers = Wiring.readerCounts(wiring)
        var tensors = consume weights
        var layers = architecture.layers
        var renamed: [String: String] = [:]
        var removed = Set<Int>(), pairs: [String] = []
        for (i, spec) in architecture.layers.enumerated() where spec.kind == .batchnorm {
            guard let c = wiring[i].first, c >= 0, architecture.layers[c].kind == .conv, readers[c] == 1 else { continue }
            let conv = architecture.layers[c].name!, bn = spec.name!
            func tensor(_ name: String) throws -> Tensor {
                guard let t = tensors[name] else { throw ReadError(file, .missingTensor, "no tensor '\(name)' to fold") }
                return t
            }
            let result = fold(weight: try tensor("\(conv).weight"), bias: tensors["\(conv).bias"],
                              gamma: try tensor("\(bn).weight"), beta: try tensor("\(bn).bias"),
                              runningMean: try tensor("\(bn).running_mean"), runningVar: try tensor("\(bn).running_var"), eps: spec.eps ?? 1e-5)
            tensors["\(conv).weight"] = result.weight
            tensors["\(conv).bias"] = result.bias
            for suffix in ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"] { tensors["\(bn).\(suffix)"] = nil }
            layers[c].bias = true
            renamed[bn] = conv
            removed.insert(i)
            pairs.append("\(bn) into \(conv)")
        }
        // Explicit inputs everywhere, pointing past the removed BatchNorms.
        var kept: [LayerSpec] = []
        for (i, var spec) in layers.enumerated() where !removed.contains(i) {
            spec.inputs = architecture.inputs(of: i).map { renamed[$0] ?? $0 }
            kept.append(spec)
        }
        var folded = Architecture(name: architecture.name + (pairs.isEmpty ? "" : "-bn-folded"), input: architecture.input, layers: kept,
                                  aliases: architecture.aliases.mapValues { renamed[$0] ?? $0 })
        // A chain stays a chain: drop the inputs that only restate the order.
        if folded.isChain { for i in folded.layers.indices { folded.layers[i].inputs = nil } }
        return Folded(architecture: folded, weights: tensors, pairs: pairs)
    }
}
