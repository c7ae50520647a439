import Foundation

/// The demo's recipe, in three parts:
///
/// 1. **conv1 learned by back-propagation** (`GradientFilterRecipe`): 48 filters of
///    3x11x11 from a random initialization, trained only by back-propagating a sparse
///    autoencoder's reconstruction loss on whitened colour patches of the sample
///    photographs. These are the filters the demo's mosaic, taxonomy and filmstrip show.
/// 2. **The comparison** (`CompetitiveFilterLearning`): spherical k-means on whitened
///    patches of the same photographs, not training; drawn beside the learned filters.
/// 3. **A rotation-prediction network** (`RotationPatches`) trained end to end with SGD,
///    its own conv1 from a random initialization (nothing frozen, nothing copied in):
///    the run behind the activation maps, the effective receptive field and the training
///    curves, tested on the photograph the filter recipe holds out.
public struct FilterRecipe: Sendable {
    public var gradient = GradientFilterRecipe()
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
    public var seed: UInt64 = 0 { didSet { competitive.seed = seed; gradient.seed = seed } }

    public init() {
        competitive.whiteningFloor = 1.0
        competitive.photoShortSide = 256
        competitive.photos = gradient.trainingPhotos
    }

    /// Every stage on a budget of seconds, for tests: the same code paths and the demo's
    /// shapes (48 filters of 3x11x11, the same photographs, smaller), few patches and steps.
    public mutating func reduceToSmokeBudget() {
        gradient.trainPatches = 1_000; gradient.heldOutPatches = 300; gradient.steps = 20; gradient.photoShortSide = 128
        competitive.patches = 1_000; competitive.iterations = 2; competitive.photoShortSide = 128
        trainPatches = 256; testPatches = 64; steps = 10; batch = 16
    }

    public var filters: Int { gradient.filters }
    public var kernel: Int { gradient.kernel }

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
        return s
    }

    /// Rotation-labelled patches, standardized per channel: training patches from the
    /// filter recipe's training photographs, test patches from its held-out ones.
    public func data() throws -> DataSource.Splits {
        var train = try RotationPatches.make(from: gradient.trainingPhotos, size: patch, count: trainPatches, shortSide: rotationPhotoShortSide, seed: seed)
        var test = try RotationPatches.make(from: gradient.heldOutPhotos, size: patch, count: testPatches, shortSide: rotationPhotoShortSide, seed: seed &+ 99)
        let standardization = Standardization.measured(train.images)
        standardization.apply(to: &train.images)
        standardization.apply(to: &test.images)
        return DataSource.Splits(train: train, test: test, standardization: standardization)
    }
}
