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
