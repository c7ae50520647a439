import Foundation

/// The demo's recipe (see the README's "Why this recipe"), in two stages:
///
/// 1. conv1 is learned without labels by competitive learning on whitened colour
///    patches of the sample photographs (`CompetitiveFilterLearning`): it becomes
///    oriented edges, colour-opponent filters and centre-surround dots in about a
///    second, deterministically for a seed.
/// 2. A small network on top of that frozen conv1 is trained with SGD on a
///    self-supervised task, rotation prediction (`RotationPatches`), which gives the
///    run a real trained network for activation maps, effective receptive fields and
///    training curves.
///
/// A supervised task the network can solve from colour statistics alone (which photo a
/// patch came from), or rotation prediction learned end to end in a few hundred steps,
/// leaves conv1 close to its random initialization: see the README.
public struct FilterRecipe: Sendable {
    public var competitive = CompetitiveFilterLearning()
    public var patch = 32
    /// Photographs are resized to this shorter side for the rotation task, so a 32x32
    /// patch shows enough of the scene to tell which way is up.
    public var rotationPhotoShortSide = 64
    public var trainPatches = 12_000
    public var testPatches = 2_000
    public var steps = 600
    public var batch = 64
    public var learningRate: Float = 0.05
    public var weightDecay: Float = 5e-4
    public var seed: UInt64 = 0 { didSet { competitive.seed = seed } }

    public init() {
        competitive.whiteningFloor = 1.0
        competitive.photoShortSide = 256
    }

    public var filters: Int { competitive.filters }
    public var kernel: Int { competitive.kernel }

    public var architecture: Architecture {
        Architecture(name: "rotation-net", input: [3, patch, patch], layers: [
            LayerSpec(.conv, name: "conv1", out: filters, kernel: Pair(kernel), stride: Pair(2)),
            LayerSpec(.relu, name: "relu1"),
            LayerSpec(.maxpool, name: "pool1", kernel: Pair(3), stride: Pair(2)),
            LayerSpec(.conv, name: "conv2", out: 64, kernel: Pair(3), padding: Pair(1)),
            LayerSpec(.batchnorm, name: "bn2"),
            LayerSpec(.relu, name: "relu2"),
            LayerSpec(.conv, name: "conv3", out: 64, kernel: Pair(3), padding: Pair(1)),
            LayerSpec(.relu, name: "relu3"),
            LayerSpec(.flatten, name: "flatten"),
            LayerSpec(.linear, name: "fc", out: 4),
        ])
    }

    public var settings: TrainingSettings {
        var s = TrainingSettings()
        s.epochs = max(1, (steps * batch + trainPatches - 1) / trainPatches)
        s.maxSteps = steps
        s.batchSize = batch
        s.learningRate = learningRate
        s.momentum = 0.9
        s.weightDecay = weightDecay
        s.schedule = .cosine
        s.seed = seed
        s.logEvery = 25
        s.frozenLayers = ["conv1"]
        return s
    }

    /// Rotation-labelled patches, standardized per channel.
    public func data() throws -> DataSource.Splits {
        var train = try RotationPatches.make(size: patch, count: trainPatches, shortSide: rotationPhotoShortSide, seed: seed)
        var test = try RotationPatches.make(size: patch, count: testPatches, shortSide: rotationPhotoShortSide, seed: seed &+ 99)
        let standardization = Standardization.measured(train.images)
        standardization.apply(to: &train.images)
        standardization.apply(to: &test.images)
        return DataSource.Splits(train: train, test: test, standardization: standardization)
    }

    /// The network with `conv1` set to the learned filters (bias 0).
    public func makeModel(conv1 filters: Tensor) throws -> Sequential {
        let model = try architecture.makeModel(seed: seed)
        let conv1 = model.layers[0] as! Conv2D
        precondition(conv1.weight.value.shape == filters.shape, "conv1 \(conv1.weight.value.shape) vs filters \(filters.shape)")
        // Learned filters have max |w| = 1; scale them like PyTorch's initialization.
        let bound = KaimingUniform.bound(fanIn: filters.count / filters.shape[0])
        conv1.weight.value = Tensor(shape: filters.shape, data: filters.data.map { $0 * bound })
        conv1.bias?.value.zero()
        return model
    }
}
