import Foundation

/// conv1 learned by gradient descent: a winner-take-all sparse autoencoder whose encoder
/// is conv1 and whose decoder is conv1's transpose (the convolution's input gradient).
///
/// - Data: 11x11 colour patches of the colour sample photographs (resized to a
///   256-pixel short side, random horizontal flips), `heldOutPhotos` excluded; each
///   patch minus its mean, then ZCA-whitened by a fixed linear transform fitted to the
///   training patches (`PatchWhitening`; eigenvalue floor 0.1, pixels in [0, 1]).
/// - Network: `conv1` (48 x 3 x 11 x 11, no bias) on a whitened patch gives 48
///   responses; lifetime sparsity (Makhzani and Frey, "Winner-take-all autoencoders",
///   NIPS 2015) keeps, for each filter, the 5% of the batch it answers most strongly
///   (either sign) and zeroes the rest; the decoder `conv1^T` reconstructs the patch.
///   Loss: squared reconstruction error per patch.
/// - Training: conv1 starts from PyTorch's initialization scaled by 0.1 and is trained
///   only by back-propagating that loss through `Conv2D`'s forward and backward passes,
///   with `SGD` (momentum 0.9, weight decay 5e-3: noise decays, learned structure stays).
///
/// The network's filter in pixel space is `W d` (`W` the symmetric whitening, `d` a row of
/// conv1): what conv1 applies to the (mean-removed) pixels, and what figures and the
/// taxonomy see. The same bytes for a seed whatever the thread count (`Parallel.workers`,
/// `--threads`; `GradientFilterRecipeTests` runs 1 and 3 workers): the batch is split in
/// fixed slices (`BatchPartition`) and the whitening's products in fixed blocks
/// (`BLAS.gemmInFixedBlocks`; OpenBLAS's own threads gave other bytes on 1, 2 and 3
/// threads). On another CPU or OpenBLAS kernel the sums round differently, and the
/// filters agree within floating-point tolerance, not bit for bit (see `BLAS.machine`).
public struct GradientFilterRecipe: Sendable {
    public var filters = 48
    public var kernel = 11
    public var trainPatches = 30_000
    public var heldOutPatches = 5_000
    public var photoShortSide = 256
    /// Photographs no training patch comes from; the pretext task is evaluated on them.
    public var heldOutPhotos = ["coffee"]
    /// Added to the eigenvalues of the patches' covariance (pixel values in [0, 1]).
    public var whiteningFloor: Float = 0.1
    public var steps = 2_000
    public var batch = 256
    public var learningRate: Float = 0.01
    public var momentum: Float = 0.9
    public var weightDecay: Float = 5e-3
    /// conv1's initial weights: PyTorch's default (uniform ±1/sqrt(fan_in)) times this.
    public var initScale: Float = 0.1
    /// Share of each batch every filter keeps (its strongest responses).
    public var winnerFraction = 0.05
    public var logEvery = 50
    public var seed: UInt64 = 0
    public init() {}

    /// Also record conv1 every this many steps (`learn-filters --record-every`), for the
    /// learning animation; nil: the filmstrip's steps only.
    public var recordEvery: Int?

    /// The recorded steps: 0 (the random initialization), 50, 200, 600 and the last, and
    /// every `recordEvery`-th step.
    public var filmstripSteps: [Int] {
        let every = recordEvery.map { Array(stride(from: 0, through: steps, by: max($0, 1))) } ?? []
        return Array(Set(([0, 50, 200, 600, steps] + every).filter { $0 <= steps })).sorted()
    }

    public var trainingPhotos: [String] { SamplePhotos.colorNames.filter { !heldOutPhotos.contains($0) } }

    public struct Metric: Sendable {
        public let step: Int
        /// Mean squared reconstruction error per patch (summed over its values) over the
        /// last `logEvery` steps.
        public let loss: Double
        public let learningRate: Float
        public let seconds: Double
    }

    /// Taxonomy fractions of one set of filters, with the taxonomy's rule (structured
    /// when spectrally concentrated *or* localized) and without its localization half.
    public struct Scores: Sendable, Equatable {
        public var edges = 0.0, colourOpponent = 0.0, blobs = 0.0, unstructured = 0.0
        public var edgesWithoutLocalization = 0.0, colourOpponentWithoutLocalization = 0.0
        public var blobsWithoutLocalization = 0.0, unstructuredWithoutLocalization = 0.0

        public init(_ weights: Tensor) {
            let taxonomy = FilterTaxonomy(weights: weights)
            let n = Double(max(taxonomy.entries.count, 1))
            edges = taxonomy.fraction(.edge); colourOpponent = taxonomy.fraction(.colorOpponent)
            blobs = taxonomy.fraction(.blob); unstructured = taxonomy.fraction(.unstructured)
            let strict = taxonomy.entries.map(Self.kindWithoutLocalization)
            edgesWithoutLocalization = Double(strict.filter { $0 == .edge }.count) / n
            colourOpponentWithoutLocalization = Double(strict.filter { $0 == .colorOpponent }.count) / n
            blobsWithoutLocalization = Double(strict.filter { $0 == .blob }.count) / n
            unstructuredWithoutLocalization = Double(strict.filter { $0 == .unstructured }.count) / n
        }

        /// The taxonomy's class when only spectral concentration counts as structure.
        static func kindWithoutLocalization(_ e: FilterTaxonomy.Entry) -> FilterTaxonomy.Kind {
            if e.concentration < FilterTaxonomy.structuredAtLeast { return .unstructured }
            if e.chromaticFraction >= FilterTaxonomy.colourAtLeast { return .colorOpponent }
            return e.selectivity >= FilterTaxonomy.orientedAtLeast ? .edge : .blob
        }

        var json: [String: Double] {
            ["oriented_edge": edges, "colour_opponent": colourOpponent, "blob": blobs, "unstructured": unstructured,
             "oriented_edge_without_localization": edgesWithoutLocalization,
             "colour_opponent_without_localization": colourOpponentWithoutLocalization,
             "blob_without_localization": blobsWithoutLocalization,
             "unstructured_without_localization": unstructuredWithoutLocalization]
        }
    }

    public struct Result: Sendable {
        /// Trained conv1 in pixel space, `[filters, 3, K, K]`: `W d` per filter.
        public let conv1: Tensor
        /// Trained conv1 as the network holds it (applied to whitened patches).
        public let conv1Whitened: Tensor
        /// The fixed whitening `W`, `[3K^2, 3K^2]`.
        public let whitening: Tensor
        /// conv1 in pixel space at `filmstripSteps` (step 0: the random initialization).
        public let snapshots: [(step: Int, weights: Tensor)]
        public let metrics: [Metric]
        public let trained: Scores
        public let initialization: Scores
        /// Random directions through the same whitening (a control).
        public let control: Scores
        /// Fraction of the held-out photographs' whitened-patch variance the autoencoder
        /// reconstructs (1 - error / variance), and the same on training patches.
        public let heldOutVarianceExplained: Double
        public let trainVarianceExplained: Double
        public let trainingSeconds: Double
        public let seed: UInt64
        public let steps: Int
    }

    /// Runs the recipe with `seed` and `steps`, the other settings as defaults.
    public static func run(seed: UInt64 = 0, steps: Int? = nil, recordEvery: Int? = nil, progress: (Metric) -> Void = { _ in }) throws -> Result {
        var recipe = GradientFilterRecipe()
        recipe.seed = seed
        recipe.recordEvery = recordEvery
        if let steps { recipe.steps = steps }
        return try recipe.run(progress: progress)
    }

    /// Whitened patches `[count, 3, K, K]` from `photos`.
    func whitenedPatches(_ photos: [String], count: Int, seed: UInt64, whitening: PatchWhitening?) throws -> (Tensor, PatchWhitening) {
        let dim = 3 * kernel * kernel
        let data = try SamplePhotos.patches(from: photos, size: kernel, count: count, channels: 3, flips: true, shortSide: photoShortSide, seed: seed)
        var x = data.images.data
        PatchWhitening.removeMean(&x, count: count, dim: dim)
        let w = try whitening ?? PatchWhitening(fitting: x, count: count, dim: dim, floor: whiteningFloor)
        return (Tensor(shape: [count, 3, kernel, kernel], data: w.apply(x, count: count)), w)
    }

    public func run(progress: (Metric) -> Void = { _ in }) throws -> Result {
        precondition(steps >= 0 && batch > 0 && trainPatches > 0)
        // LAPACK's eigen-decomposition otherwise uses as many threads as the machine has
        // cores, and its sums then depend on that number.
        BLAS.ensureSingleThreaded()
        let started = DispatchTime.now().uptimeNanoseconds
        let dim = 3 * kernel * kernel
        let (train, whitening) = try whitenedPatches(trainingPhotos, count: trainPatches, seed: seed, whitening: nil)
        let (heldOut, _) = try whitenedPatches(heldOutPhotos, count: heldOutPatches, seed: seed &+ 0x4E1D, whitening: whitening)

        var rng = SeededGenerator(seed: seed &+ 0xC0_41)
        let conv1 = Conv2D(name: "conv1", inputChannels: 3, outputChannels: filters, window: Window2D(kernel: Pair(kernel)), bias: false, rng: &rng)
        conv1.weight.value.data = conv1.weight.value.data.map { $0 * initScale }
        let optimizer = try SGD(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
        let pixel = { whitening.pixelSpace(conv1.weight.value.data, kernel: kernel) }

        var snapshots: [(step: Int, weights: Tensor)] = []
        let filmstrip = Set(filmstripSteps)
        if filmstrip.contains(0) { snapshots.append((0, pixel())) }
        let initialization = Scores(pixel())
        var controlRng = SeededGenerator(seed: seed &+ 0xC7_12)
        let control = Scores(whitening.pixelSpace((0..<(filters * dim)).map { _ in controlRng.normal() }, kernel: kernel))

        var batchRng = SeededGenerator(seed: seed &+ 0xBA7C)
        var metrics: [Metric] = []
        var windowLoss = 0.0, windowSteps = 0
        let n = min(batch, trainPatches)
        for step in 1...max(steps, 1) where steps > 0 {
            let indices = (0..<n).map { _ in batchRng.below(trainPatches) }
            let z = Self.gather(train, indices)
            windowLoss += trainStep(conv1, z, optimizer)
            windowSteps += 1
            if filmstrip.contains(step) { snapshots.append((step, pixel())) }
            if step % logEvery == 0 || step == steps {
                let metric = Metric(step: step, loss: windowLoss / Double(windowSteps), learningRate: learningRate,
                                    seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
                metrics.append(metric)
                progress(metric)
                windowLoss = 0; windowSteps = 0
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let trained = pixel()
        return Result(conv1: trained, conv1Whitened: conv1.weight.value, whitening: Tensor(shape: [dim, dim], data: whitening.matrix),
                      snapshots: snapshots, metrics: metrics, trained: Scores(trained), initialization: initialization, control: control,
                      heldOutVarianceExplained: varianceExplained(conv1, heldOut), trainVarianceExplained: varianceExplained(conv1, Self.gather(train, Array(0..<min(trainPatches, heldOutPatches)))),
                      trainingSeconds: seconds, seed: seed, steps: steps)
    }

    static func gather(_ set: Tensor, _ indices: [Int]) -> Tensor {
        let per = set.count / set.shape[0]
        var out = Tensor(uninitializedShape: [indices.count] + Array(set.shape.dropFirst()))
        for (i, j) in indices.enumerated() {
            for k in 0..<per { out.data[i * per + k] = set.data[j * per + k] }
        }
        return out
    }

    /// Keeps, for each filter (column of `[N, C, 1, 1]`), its `winnerFraction` strongest
    /// responses by magnitude; returns the mask (1 or 0).
    func winnerMask(_ pre: Tensor) -> [Float] {
        let (n, c) = (pre.shape[0], pre.shape[1])
        let k = max(1, Int(winnerFraction * Double(n)))
        var mask = [Float](repeating: 0, count: n * c)
        var column = [Float](repeating: 0, count: n)
        for ch in 0..<c {
            for i in 0..<n { column[i] = abs(pre.data[i * c + ch]) }
            let threshold = column.sorted(by: >)[k - 1]
            for i in 0..<n where column[i] >= threshold { mask[i * c + ch] = 1 }
        }
        return mask
    }

    /// Reconstructs `z` from its winners: `(conv1^T h, mask, pre)`.
    func reconstruct(_ conv1: Conv2D, _ z: Tensor) -> (xhat: Tensor, h: Tensor, mask: [Float]) {
        let pre = conv1.forward(z, mode: .training)
        let mask = winnerMask(pre)
        var h = pre
        for i in 0..<h.count { h.data[i] *= mask[i] }
        // The decoder is conv1's transpose: the convolution's input gradient.
        let xhat = conv1.backward(h, needsInputGradient: true)!
        return (xhat, h, mask)
    }

    /// One SGD step on a batch; returns the batch's loss.
    ///
    /// With tied weights `xhat = W^T (m * W z)` and `L = |xhat - z|^2 / N`, the gradient is
    /// `dL/dW = h r^T + (m * W r) z^T` with `r = dL/dxhat = 2 (xhat - z) / N` (the
    /// winners' mask `m` held fixed): the first term is conv1's weight gradient with input
    /// `r` and output gradient `h`, the second with input `z` and output gradient `m * W r`.
    func trainStep(_ conv1: Conv2D, _ z: Tensor, _ optimizer: SGD) -> Double {
        let n = z.shape[0]
        let (xhat, h, mask) = reconstruct(conv1, z)
        var r = xhat
        var loss = 0.0
        for i in 0..<r.count {
            let e = xhat.data[i] - z.data[i]
            loss += Double(e) * Double(e)
            r.data[i] = 2 * e / Float(n)
        }
        conv1.weight.grad.zero()
        var g = conv1.forward(r, mode: .training)  // W r, with r cached as the input
        _ = conv1.backward(h, needsInputGradient: false)  // += h r^T
        for i in 0..<g.count { g.data[i] *= mask[i] }
        _ = conv1.forward(z, mode: .training)
        _ = conv1.backward(g, needsInputGradient: false)  // += (m * W r) z^T
        optimizer.step([conv1.weight])
        return loss / Double(n)
    }

    /// 1 - reconstruction error / variance over `set`, in batches of `batch`.
    func varianceExplained(_ conv1: Conv2D, _ set: Tensor) -> Double {
        let count = set.shape[0], per = set.count / count
        var error = 0.0, total = 0.0
        var start = 0
        while start < count {
            let end = min(start + batch, count)
            let z = Self.gather(set, Array(start..<end))
            let (xhat, _, _) = reconstruct(conv1, z)
            for i in 0..<((end - start) * per) {
                let e = Double(xhat.data[i] - z.data[i]), v = Double(z.data[i])
                error += e * e; total += v * v
            }
            start = end
        }
        return total > 0 ? 1 - error / total : 0
    }
}
