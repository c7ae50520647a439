import Foundation

/// What a microscope site shows and how it is computed: the layers, their channels, and
/// the settings of the scan (top patches) and of the feature visualization. Two runs with
/// equal plans write the same site; the plan's `fingerprint` is what `--resume` checks.
public struct MicroscopePlan: Equatable, Sendable {
    public struct Layer: Equatable, Sendable {
        /// The layer's name in the architecture.
        public var name: String
        /// Its index in the architecture.
        public var index: Int
        public var channels: [Int]

        public init(name: String, index: Int, channels: [Int]) {
            self.name = name
            self.index = index
            self.channels = channels
        }

        /// The name as a folder or file name: `layer1.0.relu` stays, `/` and other
        /// characters a path cannot hold become `_`.
        public var slug: String {
            String(name.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" }).replacingOccurrences(of: "..", with: "_")
        }
    }

    public struct Settings: Codable, Equatable, Sendable {
        /// Feature visualization: optimization steps per layer (all channels at once).
        /// Half of `visualize`'s 512: a whole SmallConvNet site on Fashion-MNIST (96
        /// units) took 73 s on two loaded cores (README), well within its 5-minute budget.
        public var steps = 256
        /// Image side; nil: 128, or the model's input side when smaller (as `visualize`).
        public var size: Int?
        public var learningRate: Float = 0.05
        public var seed: UInt64 = 0
        /// Patches shown per unit.
        public var top = 9
        /// Images whose classes the bar chart counts (the unit's best images).
        public var classTop = 100
        /// Images per batch of the scan.
        public var batch = 64
        /// Scan the first `limit` images only.
        public var limit: Int?
        /// "test" or "train".
        public var split = "test"

        public init() {}
    }

    public var model: String
    public var data: String
    public var layers: [Layer]
    public var settings: Settings
    /// Names of the `--image` photos shown on unit pages.
    public var photos: [String]

    public init(model: String, data: String, layers: [Layer], settings: Settings, photos: [String] = []) {
        self.model = model
        self.data = data
        self.layers = layers
        self.settings = settings
        self.photos = photos
    }

    public var unitCount: Int { layers.reduce(0) { $0 + $1.channels.count } }

    /// Everything that decides the site's contents, as one string: a resumed run must
    /// have the same.
    public var fingerprint: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let settingsText = (try? encoder.encode(settings)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let layerText = layers.map { "\($0.name)#\($0.index):\($0.channels.map(String.init).joined(separator: ","))" }.joined(separator: ";")
        return "model=\(model)|data=\(data)|layers=\(layerText)|photos=\(photos.joined(separator: ","))|settings=\(settingsText)"
    }

    /// The layers a microscope shows by default (and for `--layers all`): every
    /// convolution, in the architecture's order.
    public static func convolutionLayers(of architecture: Architecture) -> [Int] {
        architecture.layers.indices.filter { architecture.layers[$0].kind == .conv && architecture.layers[$0].name != nil }
    }

    /// The feature-visualization settings `convviz visualize` uses for the same
    /// `--steps`, `--size`, `--lr` and `--seed` (its other options at their defaults).
    public func visualizationSettings(for source: ModelSource) -> FeatureVisualization.Settings {
        let input = source.architecture.input
        var s = FeatureVisualization.Settings(normalization: source.defaultStandardization.standardization)
        s.size = settings.size ?? min(128, max(input[1], input[2]))
        s.steps = settings.steps
        s.learningRate = settings.learningRate
        s.seed = settings.seed
        return s
    }

    /// The standardization `convviz top-patches` scans `data` with: the run's own
    /// statistics, Fashion-MNIST's for fashion-mnist, else the model's default.
    public static func scanStandardization(for source: ModelSource, data: DataSource) -> Standardization {
        source.standardization ?? (data == .fashionMNIST ? .fashionMNIST : source.defaultStandardization.standardization)
    }
}
