import Foundation

/// Mini-batch SGD over a labelled image set, with evaluation on a test split each
/// epoch. Everything random (initialisation, shuffling) comes from the settings' seed,
/// so the same seed gives the same weights, byte for byte.
public final class Trainer {
    public let model: Sequential
    public let architecture: Architecture
    public let settings: TrainingSettings
    public let standardization: Standardization
    public let optimizer: SGD
    public private(set) var step = 0

    /// What the trainer reports as it goes (progress display, metrics file).
    public enum Event {
        case step(step: Int, totalSteps: Int, epoch: Int, loss: Float, accuracy: Float, learningRate: Float, imagesPerSecond: Double)
        case evaluation(epoch: Int, testLoss: Float, testAccuracy: Float)
        case epochEnd(epoch: Int)
    }

    public struct NonFiniteLoss: Error, CustomStringConvertible {
        public let step: Int
        public let loss: Float
        /// Which loss: "loss" (a training batch) or "test loss".
        public var what = "loss"
        public var description: String {
            "the \(what) became \(loss) at step \(step); training stopped (the last good checkpoint, if any, is kept). Try a lower --lr."
        }
    }

    public struct Summary: Sendable {
        public var steps: Int
        public var epochs: Int
        public var finalLoss: Float
        public var testLoss: Float?
        public var testAccuracy: Float?
        public var trainImagesPerSecond: Double
    }

    public init(model: Sequential, architecture: Architecture, settings: TrainingSettings, standardization: Standardization) throws {
        self.model = model
        self.architecture = architecture
        self.settings = settings
        self.standardization = standardization
        optimizer = try SGD(learningRate: settings.learningRate, momentum: settings.momentum, weightDecay: settings.weightDecay)
    }

    /// Restores the step reached and the momentum buffers (from `optimizerState`).
    public func resume(step: Int, optimizerState: [String: Tensor]) {
        self.step = step
        for (name, p) in model.namedParameters where p.trainable {
            if let v = optimizerState[name], v.count == p.value.count { optimizer.setMomentumBuffer(v.data, for: p) }
        }
    }

    /// Momentum buffers by parameter name, to save beside a checkpoint.
    public var optimizerState: [(String, Tensor)] {
        model.namedParameters.compactMap { name, p in
            optimizer.momentumBuffer(for: p).map { (name, Tensor(shape: p.value.shape, data: $0)) }
        }
    }

    /// Parameters the optimizer updates: all but those of frozen layers.
    private var trainableParameters: [Parameter] {
        let frozen = Set(settings.frozenLayers)
        return model.layers.filter { !frozen.contains($0.name) }.flatMap(\.parameters)
    }

    /// Trains on already standardized `train` images; evaluates on `test` after each
    /// epoch. `onEvent` sees every logged step, evaluation and epoch end.
    public func train(_ train: LabeledImages, test: LabeledImages?, onEvent: (Event) throws -> Void) throws -> Summary {
        let n = train.count
        guard n > 0 else { throw TrainingSession.Mismatch(description: "no training images") }
        let batch = min(settings.batchSize, n)
        // --epochs 2^62 with --max-steps means "until --max-steps"; without, it is refused.
        let (stepsPerEpoch, totalSteps) = try settings.stepPlan(trainingImages: n)
        guard step <= totalSteps else { throw TrainingResume.pastTheEnd(step: step, total: totalSteps, settings: settings, perEpoch: stepsPerEpoch) }
        var windowLoss = 0.0, windowCorrect = 0, windowSeen = 0
        var trainSeconds = 0.0, trainImages = 0
        var windowStart = DispatchTime.now().uptimeNanoseconds
        var summary = Summary(steps: step, epochs: step / stepsPerEpoch, finalLoss: .nan, trainImagesPerSecond: 0)
        while step < totalSteps {
            let epoch = step / stepsPerEpoch
            // Each epoch's order depends only on (seed, epoch): a resumed run sees the same batches.
            var rng = SeededGenerator(seed: settings.seed &+ 0x5EED &+ UInt64(epoch) &* 0x9E37_79B9)
            var order = Array(0..<n)
            order.shuffle(using: &rng)
            var position = step % stepsPerEpoch
            while position < stepsPerEpoch && step < totalSteps {
                let indices = order[(position * batch)..<((position + 1) * batch)]
                let (x, y) = train.batch(indices)
                let lr = settings.learningRate(step: step, totalSteps: totalSteps)
                optimizer.learningRate = lr
                let logits = model.forward(x, mode: .training)
                let result = CrossEntropy.evaluate(logits: logits, targets: y)
                guard result.loss.isFinite else { throw NonFiniteLoss(step: step, loss: result.loss) }
                model.zeroGradients()
                model.backward(result.gradient)
                optimizer.step(trainableParameters)
                step += 1
                position += 1
                windowLoss += Double(result.loss) * Double(batch)
                windowCorrect += result.correct
                windowSeen += batch
                summary.finalLoss = result.loss
                if step % settings.logEvery == 0 || step == totalSteps || position == stepsPerEpoch {
                    let now = DispatchTime.now().uptimeNanoseconds
                    let seconds = Double(now - windowStart) / 1e9
                    trainSeconds += seconds
                    trainImages += windowSeen
                    try onEvent(.step(step: step, totalSteps: totalSteps, epoch: epoch, loss: Float(windowLoss / Double(windowSeen)),
                                      accuracy: Float(windowCorrect) / Float(windowSeen), learningRate: lr,
                                      imagesPerSecond: Double(windowSeen) / max(seconds, 1e-9)))
                    windowLoss = 0; windowCorrect = 0; windowSeen = 0
                    windowStart = DispatchTime.now().uptimeNanoseconds
                }
            }
            if position == stepsPerEpoch || step == totalSteps {
                if let test {
                    let (loss, accuracy) = evaluate(test)
                    guard loss.isFinite else { throw NonFiniteLoss(step: step, loss: loss, what: "test loss") }
                    summary.testLoss = loss
                    summary.testAccuracy = accuracy
                    try onEvent(.evaluation(epoch: epoch, testLoss: loss, testAccuracy: accuracy))
                }
                try onEvent(.epochEnd(epoch: epoch))
                windowStart = DispatchTime.now().uptimeNanoseconds
            }
        }
        summary.steps = step
        summary.epochs = step / stepsPerEpoch + (step % stepsPerEpoch == 0 ? 0 : 1)  // no overflow at a step near Int.max
        summary.trainImagesPerSecond = trainSeconds > 0 ? Double(trainImages) / trainSeconds : 0
        return summary
    }

    /// Mean loss and accuracy over a standardized set, in evaluation mode.
    public func evaluate(_ set: LabeledImages, batchSize: Int = 500) -> (loss: Float, accuracy: Float) {
        var total = 0.0, correct = 0
        var start = 0
        while start < set.count {
            let end = min(start + batchSize, set.count)
            let (x, y) = set.batch(Array(start..<end)[...])
            let r = CrossEntropy.evaluate(logits: model.forward(x, mode: .evaluation), targets: y)
            total += Double(r.loss) * Double(end - start)
            correct += r.correct
            start = end
        }
        return (Float(total / Double(max(set.count, 1))), Float(correct) / Float(max(set.count, 1)))
    }
}
