import Foundation

/// A small, fast, seeded random generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random choice in ConvViz takes one of these, so the same seed gives the same
/// weights, batches and figures on every machine. Swift's `SystemRandomNumberGenerator`
/// is not seedable, hence our own.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform Float in [low, high), from the top 24 bits (exactly representable).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        let u = Float(next() >> 40) * (1.0 / 16_777_216.0)
        return low + (high - low) * u
    }

    /// Standard normal by Box–Muller.
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0), 1e-300)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// Integer uniformly in 0..<n.
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next() % UInt64(n))
    }
}

extension Tensor {
    /// Uniform in [-bound, bound).
    public static func uniform(shape: [Int], bound: Float, using rng: inout SeededGenerator) -> Tensor {
        var t = Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = rng.uniform(-bound, bound) }
        return t
    }

    /// Standard normal scaled by `std`.
    public static func normal(shape: [Int], std: Float = 1, using rng: inout SeededGenerator) -> Tensor {
        var t = Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = rng.normal() * std }
        return t
    }
}
