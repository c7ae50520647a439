@testable import ConvVizCore

extension Tensor {
    /// Values uniform in [-1, 1] from a seeded generator: test inputs that are the same
    /// on every run.
    static func seededUniform(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &rng) })
    }
}
