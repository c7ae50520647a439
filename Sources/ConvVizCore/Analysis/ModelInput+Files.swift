import Foundation

extension ModelInput {
    /// What a network is fed, with what a figure shows of it and says about it.
    public struct Prepared {
        /// The batch fed to the network, [N, C, H, W].
        public var batch: Tensor
        /// The photo at network size, [C, H, W] in [0, 1]; nil for an array fed as it is.
        public var display: Tensor?
        /// One sentence saying how the input was prepared (a figure's caption, in English;
        /// `preparation` holds the same facts for other wordings).
        public var caption: String
        /// How the input was prepared, as facts.
        public var preparation: Preparation
    }

    /// How a network's input was made, for captions in any language.
    public enum Preparation: Sendable, Equatable {
        /// An array file fed as it is.
        case array(file: String, shape: [Int])
        /// A photo resized to `height` x `width` and standardized.
        case photo(height: Int, width: Int, standardization: StandardizationSource)
    }

    /// Where a photo's standardization came from.
    public enum StandardizationSource: Sendable, Equatable {
        /// The user's `--mean`/`--std` (missing ones from the default).
        case given(mean: [Float], std: [Float])
        /// A ConvViz run's own training statistics.
        case trainingRun
        /// torchvision's ImageNet statistics (3-channel networks without their own).
        case imageNet
        /// Mean 0.5 and std 0.25 per channel (other networks without their own).
        case generic
    }

    /// An input file's numbers that do not fit the network.
    public struct Mismatch: Error, CustomStringConvertible {
        public let description: String
    }

    /// An array (.npy) fed as it is: [N, C, H, W], or [C, H, W] as a batch of one.
    public static func array(at path: String, channels c: Int) throws -> Prepared {
        let url = URL(fileURLWithPath: path)
        var x = try NPY.read(contentsOf: url)
        if x.rank == 3 { x = x.reshaped([1] + x.shape) }
        guard x.rank == 4, x.shape[1] == c, x.shape.allSatisfy({ $0 >= 1 }) else {
            throw ReadError(path, .badShape, "the network takes [N, \(c), H, W]; got \(x.shape)")
        }
        return Prepared(batch: x, display: nil, caption: "Input \(url.lastPathComponent) \(x.shape.map(String.init).joined(separator: "x")), fed as it is.",
                        preparation: .array(file: url.lastPathComponent, shape: x.shape))
    }

    /// A photo resized to the network's input (or `size`, [H, W]) and standardized: with
    /// `mean`/`std` where given, else the source's own statistics (a ConvViz run's, or
    /// ImageNet's for an ONNX model).
    public static func photo(at path: String, for source: ModelSource, size: [Int]? = nil, mean: [Float]? = nil, std: [Float]? = nil) throws -> Prepared {
        let c = source.architecture.input[0]
        var (standardization, label) = source.defaultStandardization
        var origin: StandardizationSource = source.standardization != nil ? .trainingRun : (c == 3 ? .imageNet : .generic)
        if mean != nil || std != nil {
            for (name, values) in [("mean", mean), ("standard deviation", std)] {
                if let values, values.count != c { throw Mismatch(description: "the \(name) takes \(c) numbers, one per channel; got \(values.count)") }
            }
            let m = mean ?? standardization.mean, s = std ?? standardization.std
            standardization = Standardization(mean: m, std: s)
            label = "mean \(m.map { String($0) }.joined(separator: ", ")), std \(s.map { String($0) }.joined(separator: ", "))"
            origin = .given(mean: m, std: s)
        }
        var architecture = source.architecture
        if let size { architecture.input = [c] + size }
        let prepared = try prepare(imageAt: URL(fileURLWithPath: path), for: architecture, standardization: standardization)
        let (h, w) = (architecture.input[1], architecture.input[2])
        return Prepared(batch: prepared.batch, display: prepared.display, caption: "Photo resized to \(h)x\(w) and standardized with \(label).",
                        preparation: .photo(height: h, width: w, standardization: origin))
    }

    /// Feature maps computed elsewhere (.npy): [C, H, W], or [1, C, H, W] for one sample.
    public static func maps(at path: String) throws -> Tensor {
        let tensor = try NPY.read(contentsOf: URL(fileURLWithPath: path))
        switch tensor.rank {
        case 3: return tensor
        case 4 where tensor.shape[0] == 1: return tensor.reshaped(Array(tensor.shape.dropFirst()))
        case 4: throw ReadError(path, .badShape, "maps [N, C, H, W] with N = \(tensor.shape[0]); give one sample ([1, C, H, W] or [C, H, W])")
        default: throw ReadError(path, .badShape, "maps must be [C, H, W] or [1, C, H, W], got \(tensor.shape)")
        }
    }
}
