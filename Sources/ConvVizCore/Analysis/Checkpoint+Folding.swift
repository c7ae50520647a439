extension Checkpoint {
    /// The same network for inference with every BatchNorm that directly follows a
    /// convolution folded into it (`BatchNormFolding`). Returns the folded checkpoint and
    /// the pairs folded ("bn1 into conv1").
    public func foldingBatchNorm() throws -> (checkpoint: Checkpoint, folded: [String]) {
        let folded = try BatchNormFolding.fold(architecture, weights: tensors, file: "checkpoint")
        var result = self
        result.architecture = folded.architecture
        result.tensors = folded.weights
        result.notes["convviz.folded"] = folded.pairs.joined(separator: ", ")
        _ = try result.makeModel()
        return (result, folded.pairs)
    }
}
