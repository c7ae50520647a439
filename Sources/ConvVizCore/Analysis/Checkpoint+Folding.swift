extension Checkpoint {
    /// The same network for inference with every BatchNorm that directly follows a
    /// convolution folded into it (`BatchNormFolding`): the BN layers are gone from the
    /// architecture, and the convolutions gain a bias where they had none.
    /// Returns the folded checkpoint and the pairs folded ("bn1 into conv1").
    public func foldingBatchNorm() throws -> (checkpoint: Checkpoint, folded: [String]) {
        var arch = architecture
        var tensors = self.tensors
        var folded: [String] = []
        var keep: [LayerSpec] = []
        for spec in arch.layers {
            if spec.kind == .batchnorm, let prev = keep.last, prev.kind == .conv {
                let conv = prev.name!, bn = spec.name!
                let result = BatchNormFolding.fold(
                    weight: tensors["\(conv).weight"]!, bias: tensors["\(conv).bias"],
                    gamma: tensors["\(bn).weight"]!, beta: tensors["\(bn).bias"]!,
                    runningMean: tensors["\(bn).running_mean"]!, runningVar: tensors["\(bn).running_var"]!, eps: spec.eps ?? 1e-5)
                tensors["\(conv).weight"] = result.weight
                tensors["\(conv).bias"] = result.bias
                for suffix in ["weight", "bias", "running_mean", "running_var"] { tensors["\(bn).\(suffix)"] = nil }
                keep[keep.count - 1].bias = true
                folded.append("\(bn) into \(conv)")
                continue
            }
            keep.append(spec)
        }
        arch.layers = keep
        arch.name = architecture.name + (folded.isEmpty ? "" : "-bn-folded")
        var result = self
        result.architecture = arch
        result.tensors = tensors
        result.notes["convviz.folded"] = folded.joined(separator: ", ")
        _ = try result.makeModel()
        return (result, folded)
    }
}
