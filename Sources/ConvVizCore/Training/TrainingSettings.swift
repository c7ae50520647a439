import Foundation

/// How to train: the recipe recorded in every checkpoint and summary.
public struct TrainingSettings: Codable, Equatable, Sendable {
    public enum Schedule: String, Codable, CaseIterable, Sendable {
        /// The same rate throughout.
        case constant
        /// x0.1 at 50% and again at 75% of the steps.
        case step
        /// Half a cosine from the base rate to 0 over the run (Loshchilov & Hutter, 2017).
        case cosine
    }

    public var epochs: Int = 1
    public var maxSteps: Int?
    public var batchSize: Int = 128
    public var learningRate: Float = 0.02
    public var momentum: Float = 0.9
    public var weightDecay: Float = 5e-4
    public var schedule: Schedule = .cosine
    public var seed: UInt64 = 0
    /// Steps between two lines of metrics.
    public var logEvery: Int = 50
    /// Layers whose parameters stay fixed (e.g. a conv1 learned beforehand).
    public var frozenLayers: [String] = []

    public init() {}

    /// The most steps a run may count to: 2^53, the largest integer every JSON reader
    /// holds exactly (metrics.jsonl and summary.json record steps as JSON numbers, and a
    /// checkpoint's step is read back from them). A checkpoint's step and epoch are
    /// checked against it too.
    public static let stepLimit = 1 << 53

    /// A counter out of range (epochs times steps per epoch, a checkpoint's step), in one line.
    public struct CounterError: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Steps per epoch over `n` training images (the last partial batch dropped, as
    /// PyTorch's `drop_last=True`) and the run's end: `epochs` x steps per epoch, or
    /// `maxSteps` if sooner. Computed with overflow checks: an end past `stepLimit` (an
    /// `--epochs` of 2^62 without `--max-steps` would run for ever) is refused.
    public func stepPlan(trainingImages n: Int) throws -> (perEpoch: Int, total: Int) {
        let batch = Swift.max(1, Swift.min(batchSize, n))
        let perEpoch = Swift.max(1, n / batch)
        let (epochSteps, overflow) = epochs.multipliedReportingOverflow(by: perEpoch)
        let byEpochs = overflow || epochs < 0 ? Int.max : epochSteps
        let total = Swift.min(maxSteps ?? Int.max, byEpochs)
        guard total <= Self.stepLimit else {
            if let maxSteps, maxSteps == total {
                throw CounterError("--max-steps \(maxSteps) is more than the limit of \(Self.stepLimit) (2^53) steps a run can count to")
            }
            throw CounterError("--epochs \(epochs) of \(perEpoch) steps each is \(overflow ? "more than \(Int.max)" : "\(epochSteps)") steps, more than the limit of \(Self.stepLimit) (2^53); give fewer --epochs or a --max-steps")
        }
        return (perEpoch, total)
    }

    /// The learning rate at `step` of `totalSteps`.
    public func learningRate(step: Int, totalSteps: Int) -> Float {
        let t = Float(step) / Float(max(totalSteps, 1))
        switch schedule {
        case .constant: return learningRate
        case .step: return learningRate * (t >= 0.75 ? 0.01 : t >= 0.5 ? 0.1 : 1)
        case .cosine: return learningRate * 0.5 * (1 + Float(cos(Double.pi * Double(t))))
        }
    }

    /// `{}` if a value cannot be encoded (a NaN learning rate: refused by the CLI before this).
    public var json: String { (try? JSONEncoder.sorted.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}" }
}
