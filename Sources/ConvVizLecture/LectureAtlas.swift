import ConvVizCore
import ConvVizRender
import Foundation

/// The course's figures in the course's order (`convviz lecture`): convolution layers,
/// receptive fields and stride, pooling, then normalization. Each section builds its
/// figures from ConvViz's own computation (shape arithmetic, real tensors, real
/// training runs); the atlas only orders them and checks that none is missing.
public struct LectureAtlas {
    /// The manifest ids, in the course's order; every one must be drawn.
    public static let ids = [
        "conv-layer", "conv-batched", "stacking", "first-layer-filters", "receptive-field",
        "stride", "conv-summary", "one-by-one", "pooling", "pooling-shift", "bn-matrix",
        "bn-train-test", "bn-folding", "bn-convnets", "norm-groups", "bn-batch-size",
    ]

    public var context: LectureContext

    public init(context: LectureContext) { self.context = context }

    /// A section of the course that could not deliver its figures.
    public struct MissingFigures: Error, CustomStringConvertible {
        public let ids: [String]
        public var description: String { "the lecture atlas did not draw: \(ids.joined(separator: ", "))" }
    }

    /// Every figure, in `ids` order.
    public func figures() throws -> [Report.Figure] {
        var drawn: [Report.Figure] = []
        drawn += try ConvolutionLecture(context: context).figures()
        drawn += try PoolingLecture(context: context).figures()
        drawn += try NormalizationLecture(context: context).figures()
        let byID = Dictionary(drawn.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let wanted = Self.ids.filter(context.wants)
        let missing = wanted.filter { byID[$0] == nil }
        guard missing.isEmpty else { throw MissingFigures(ids: missing) }
        return wanted.map { byID[$0]! }
    }

    /// The report: figures, page and handout in the context's language.
    public func report() throws -> Report {
        let l = context.language
        var report = Report(title: l("Convolutional networks: the lecture's figures", "卷积神经网络：课程插图"),
                            introduction: l("Every figure of the course on convolutional networks, in the course's order: the convolution layer, stacking, what first layers learn, receptive fields and stride, the hyperparameters, pooling, and normalization (BatchNorm and its test-time form, folding, BatchNorm for ConvNets, LayerNorm, InstanceNorm and GroupNorm). Every number in a figure is computed by ConvViz: shapes by its shape arithmetic, values from real tensors, curves from real training runs.",
                                            "卷积神经网络课程的全部插图，按课程顺序排列：卷积层、卷积层的堆叠、第一层学到了什么、感受野与步幅、超参数、池化，以及归一化（批归一化及其测试时形式、折叠、卷积网络中的批归一化、层归一化、实例归一化和组归一化）。图中的每个数字都由 ConvViz 计算得到：形状来自形状推算，数值来自真实张量，曲线来自真实的训练过程。"))
        report.language = l
        report.figures = try figures()
        report.facts = [(l("seed", "随机种子"), String(context.seed)), (l("language", "语言"), l.rawValue)]
        return report
    }
}

/// What every section of the lecture shares: the language, the seed, where the
/// Fashion-MNIST files are, and a place to report progress on long work.
public struct LectureContext {
    public var language: Language
    public var seed: UInt64
    /// Fashion-MNIST for the sections that train (BatchNorm statistics, batch size).
    public var fashionMNIST: URL
    /// Scratch space for training runs (their checkpoints are not part of the atlas).
    public var workDirectory: URL
    /// Called with a line of progress ("training BatchNorm, batch 16: step 40/200").
    public var progress: (String) -> Void
    /// How much training the sections that train may do: `.full` for the atlas,
    /// `.smoke` (a few steps, same code paths) for tests.
    public var budget: Budget = .full

    public enum Budget: Sendable { case full, smoke }

    /// The figures wanted (nil: all); sections skip the work of the others.
    public var only: Set<String>?

    /// Whether figure `id` is wanted.
    public func wants(_ id: String) -> Bool { only?.contains(id) ?? true }

    public init(language: Language = .en, seed: UInt64 = 0, fashionMNIST: URL = FashionMNIST.defaultDirectory,
                workDirectory: URL, progress: @escaping (String) -> Void = { _ in }) {
        self.language = language
        self.seed = seed
        self.fashionMNIST = fashionMNIST
        self.workDirectory = workDirectory
        self.progress = progress
    }
}
