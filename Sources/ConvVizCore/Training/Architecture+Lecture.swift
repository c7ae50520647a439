extension Architecture {
    /// The lecture's small BatchNorm network for 28x28 grayscale images, sized so that
    /// the atlas can train it many times in minutes on a laptop:
    /// conv 1->8 3x3 pad 1, BN, ReLU, maxpool 2; conv 8->16 3x3 pad 1, BN, ReLU,
    /// maxpool 2; flatten; linear 784->10 (about 10k parameters). Swap its BatchNorms
    /// with `replacingBatchNorm(with:)`; 8 and 16 channels split into 1, 2, 4 or 8 groups.
    public static func lectureNormNet(size: Int = 28, classes: Int = 10) -> Architecture {
        Architecture(name: "lecture-norm", input: [1, size, size], layers: [
            LayerSpec(.conv, name: "conv1", out: 8, kernel: Pair(3), padding: Pair(1)),
            LayerSpec(.batchnorm, name: "bn1"), LayerSpec(.relu), LayerSpec(.maxpool, kernel: Pair(2)),
            LayerSpec(.conv, name: "conv2", out: 16, kernel: Pair(3), padding: Pair(1)),
            LayerSpec(.batchnorm, name: "bn2"), LayerSpec(.relu), LayerSpec(.maxpool, kernel: Pair(2)),
            LayerSpec(.flatten), LayerSpec(.linear, name: "fc", out: classes),
        ])
    }
}
