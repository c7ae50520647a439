extension Architecture {
    /// SmallConvNet for 28x28 grayscale images (Fashion-MNIST):
    /// conv 1->32 5x5 pad 2, BN, ReLU, maxpool 2; conv 32->64 5x5 pad 2, BN, ReLU,
    /// maxpool 2; flatten; linear 3136->10.
    public static func smallConvNet(inputChannels: Int = 1, size: Int = 28, classes: Int = 10) -> Architecture {
        Architecture(name: "small", input: [inputChannels, size, size], layers: [
            LayerSpec(.conv, name: "conv1", out: 32, kernel: Pair(5), padding: Pair(2)),
            LayerSpec(.batchnorm, name: "bn1"), LayerSpec(.relu), LayerSpec(.maxpool, kernel: Pair(2)),
            LayerSpec(.conv, name: "conv2", out: 64, kernel: Pair(5), padding: Pair(2)),
            LayerSpec(.batchnorm, name: "bn2"), LayerSpec(.relu), LayerSpec(.maxpool, kernel: Pair(2)),
            LayerSpec(.flatten), LayerSpec(.linear, name: "fc", out: classes),
        ])
    }
}
