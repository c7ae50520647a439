import ConvVizCore
import Foundation

/// BatchNorm for ConvNets: the N x C x H x W cube with one channel's set shaded (all
/// samples, all positions) and the shapes of the statistics beside it, from shape
/// arithmetic on the tensor's shape: x N x C x H x W gives μ, σ² of 1 x C x 1 x 1, each
/// over N·H·W values, against N x D giving 1 x D for a fully connected layer. With a
/// tensor, the shaded channel's statistics are computed from it. The shape lines are
/// groups `shape-x`, `shape-statistics`, `shape-affine`, `shape-output`, `count`,
/// `shape-fc`.
public struct BatchNormConvNetsFigure {
    /// N, C, H, W of the tensor normalized.
    public var shape: [Int]
    /// The values, for real statistics of the shaded channel.
    public var tensor: Tensor?
    /// The channel shaded.
    public var channel = 0
    public var source: String?
    public var text = FigureText()

    /// Drawn cubes have at most this many samples and channels (the shapes say the real sizes).
    public static let maxDrawn = 12

    public init(shape: [Int]) {
        precondition(shape.count == 4, "[N, C, H, W]")
        self.shape = shape
    }

    public init(tensor: Tensor) {
        self.init(shape: tensor.shape)
        self.tensor = tensor
    }

    public func scene() -> Scene {
        let l = text.language
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        var cubes = NormalizationCubes()
        cubes.kinds = [.batch]
        cubes.samples = min(n, Self.maxDrawn); cubes.channels = min(c, Self.maxDrawn)
        cubes.anchor = SampleChannel(0, min(channel, cubes.channels - 1))
        cubes.text = text
        let panel = cubes.panelSize
        let count = n * h * w
        let countText = FigureNumber.grouped(count)
        var lines: [(String, String)] = [
            ("shape-x", "x: N x C x H x W = \(n) x \(c) x \(h) x \(w)"),
            ("shape-statistics", l("μ, σ²: 1 x C x 1 x 1 = 1 x \(c) x 1 x 1 (one per channel)", "μ, σ²：1 x C x 1 x 1 = 1 x \(c) x 1 x 1（每个通道一个）")),
            ("shape-affine", l("γ, β: 1 x C x 1 x 1 = 1 x \(c) x 1 x 1 (learned)", "γ, β：1 x C x 1 x 1 = 1 x \(c) x 1 x 1（学习得到）")),
            ("shape-output", "y = γ (x - μ) / √(σ² + ε) + β: \(n) x \(c) x \(h) x \(w)"),
            ("count", l("each μ and σ² over N·H·W = \(n)·\(h)·\(w) = \(countText) values", "每个 μ 和 σ² 基于 N·H·W = \(n)·\(h)·\(w) = \(countText) 个数值")),
            ("shape-fc", l("fully connected: x: N x D gives μ, σ²: 1 x D", "全连接层：x 为 N x D 时，μ, σ² 为 1 x D")),
        ]
        if let tensor {
            let s = NormalizationKind.batch.statistics(tensor, containing: SampleChannel(0, channel), groups: 1)
            lines.append(("channel-statistics", l(String(format: "channel %d of this tensor: μ = %.4f, σ² = %.4f over %d values", channel, s.mean, s.variance, s.count),
                                                  String(format: "该张量的通道 %d：μ = %.4f，σ² = %.4f，共 %d 个数值", channel, s.mean, s.variance, s.count))))
        }
        var caption = [
            l("BatchNorm for convolutional layers: one mean and one variance per channel, over the batch and every spatial position (N, H, W), so that every position of a channel's activation map is normalized the same way. Shaded: channel \(channel), the set of one mean.",
              "卷积层中的批归一化：每个通道一个均值和一个方差，统计范围是整个批和所有空间位置（N、H、W），因此同一通道激活图上的每个位置都以相同方式归一化。阴影：通道 \(channel)，即共用一个均值的集合。"),
        ]
        if n > Self.maxDrawn || c > Self.maxDrawn {
            caption.append(l("The cube draws at most \(Self.maxDrawn) samples and channels; the shapes give the real sizes.", "立方体最多画出 \(Self.maxDrawn) 个样本和通道；形状给出真实大小。"))
        }
        if let source { caption.append(source) }
        let textW = 470.0
        let frame = FigureFrame(title: l("BatchNorm for ConvNets: statistics over N, H, W per channel", "卷积网络中的批归一化：每个通道在 N、H、W 上求统计量"),
                                caption: caption, contentWidth: panel.width + 40 + textW, contentHeight: max(panel.height, Double(lines.count) * 24 + 30), text: text)
        var scene = frame.makeScene()
        scene.add(.group("cube-batch", cubes.cube(.batch, at: Point(frame.contentOrigin.x + 30, frame.contentOrigin.y))))
        let tx = frame.contentOrigin.x + panel.width + 50
        for (i, (name, line)) in lines.enumerated() {
            scene.add(.group(name, [.text(line, at: Point(tx, frame.contentOrigin.y + 30 + Double(i) * 24), size: Theme.labelSize + 1,
                                          color: name == "shape-fc" ? Theme.muted : Theme.ink, bold: name == "shape-statistics")]))
        }
        return scene
    }
}
