extension BatchNormFolding {
    /// A convolution and the evaluation-mode BatchNorm after it, folded into one
    /// convolution, and how far the two computations are apart on a given input.
    public struct Check {
        /// Folded `[C_out, C_in, K, K]` weight and `[C_out]` bias.
        public let weight: Tensor, bias: Tensor
        /// max |BN_eval(conv(x)) - conv'(x)| over the input batch.
        public let maxAbsDifference: Float
        /// The largest |BN_eval(conv(x))|, to put the difference in proportion.
        public let maxAbsOutput: Float
    }

    /// Folds `bn` into `conv` (neither changes) and runs both forms on `input` `[N, C, H, W]`.
    public static func check(conv: Conv2D, bn: BatchNorm2D, input: Tensor) -> Check {
        let folded = fold(weight: conv.weight.value, bias: conv.bias?.value, gamma: bn.weight.value, beta: bn.bias.value,
                          runningMean: bn.runningMean.value, runningVar: bn.runningVar.value, eps: bn.eps)
        var rng = SeededGenerator(seed: 0)
        let one = Conv2D(name: conv.name, inputChannels: conv.inputChannels, outputChannels: conv.outputChannels,
                         window: conv.window, groups: conv.groups, bias: true, rng: &rng)
        one.weight.value = folded.weight
        one.bias!.value = folded.bias
        let twoLayers = bn.forward(conv.forward(input, mode: .evaluation), mode: .evaluation)
        let oneLayer = one.forward(input, mode: .evaluation)
        var worst: Float = 0
        for i in 0..<twoLayers.count { worst = max(worst, abs(twoLayers.data[i] - oneLayer.data[i])) }
        return Check(weight: folded.weight, bias: folded.bias, maxAbsDifference: worst, maxAbsOutput: twoLayers.maxAbs)
    }
}
