/// Title on top, caption at the bottom, content in between: the frame every figure
/// shares. `contentOrigin` is where a figure starts drawing.
///
/// The user's `FigureText` replaces the figure's own title and caption; captions wrap
/// to the content's width (at least `minimumCaptionWidth`), in Latin and CJK text
/// alike, so a long caption never makes a figure wider than its drawing.
public struct FigureFrame {
    public let title: String
    public let caption: [String]
    public let contentWidth: Double
    public let contentHeight: Double

    /// Captions narrower than this would wrap into a tall column under a small drawing.
    public static let minimumCaptionWidth: Double = 520

    public init(title: String, caption: [String], contentWidth: Double, contentHeight: Double, text: FigureText = FigureText()) {
        self.title = text.title ?? title
        let lines = text.caption.map { [$0] } ?? caption
        let wrapWidth = max(contentWidth, Self.minimumCaptionWidth)
        self.caption = lines.flatMap { TextMetrics.wrap($0, size: Theme.captionSize, maxWidth: wrapWidth) }
        self.contentWidth = contentWidth
        self.contentHeight = contentHeight
    }

    var titleHeight: Double { title.isEmpty ? 0 : Theme.titleSize + 14 }
    var captionHeight: Double { caption.isEmpty ? 0 : Double(caption.count) * (Theme.captionSize + 5) + 8 }
    public var contentOrigin: Point { Point(Theme.margin, Theme.margin + titleHeight) }

    /// A scene of the right size holding the title and caption.
    public func makeScene() -> Scene {
        // Text is measured when drawn, not here: the estimate is an upper bound, so
        // captions and titles are never clipped.
        let textWidth = max(TextMetrics.width(title, size: Theme.titleSize),
                            caption.map { TextMetrics.width($0, size: Theme.captionSize) * 0.94 }.max() ?? 0)
        let width = max(contentWidth, textWidth) + 2 * Theme.margin
        let height = contentHeight + titleHeight + captionHeight + 2 * Theme.margin
        var scene = Scene(width: width.rounded(.up), height: height.rounded(.up))
        if !title.isEmpty {
            scene.add(.group("title", [.text(title, at: Point(Theme.margin, Theme.margin + Theme.titleSize / 2 + 2), size: Theme.titleSize, color: Theme.ink, bold: true)]))
        }
        var y = Theme.margin + titleHeight + contentHeight + 8 + Theme.captionSize / 2 + 2
        var captionItems: [Scene.Item] = []
        for line in caption {
            captionItems.append(.text(line, at: Point(Theme.margin, y), size: Theme.captionSize, color: Theme.muted))
            y += Theme.captionSize + 5
        }
        if !captionItems.isEmpty { scene.add(.group("caption", captionItems)) }
        return scene
    }
}

extension Scene {
    /// Whether the scene has a top-level group of that name (`FigureFrame` draws
    /// "title" and "caption").
    public func hasGroup(_ name: String) -> Bool {
        items.contains { if case .group(name, _) = $0 { true } else { false } }
    }

    /// The scene with its frame's title and caption replaced (figures drawn by
    /// `FigureFrame` keep them in the groups "title" and "caption"): the caption is
    /// rewrapped to the figure's width and the scene grows or shrinks to fit it.
    public func replacingFrameText(title: String?, caption: String?) -> Scene {
        var scene = self
        if let title, let i = scene.items.firstIndex(where: { if case .group("title", _) = $0 { true } else { false } }),
           case let .group(_, inner) = scene.items[i], case let .text(_, at, size, color, anchor, bold) = inner.first {
            scene.items[i] = .group("title", [.text(title, at: at, size: size, color: color, anchor: anchor, bold: bold)])
            scene.width = max(scene.width, (TextMetrics.width(title, size: size) + 2 * Theme.margin).rounded(.up))
        }
        if let caption, let i = scene.items.firstIndex(where: { if case .group("caption", _) = $0 { true } else { false } }),
           case let .group(_, inner) = scene.items[i], case let .text(_, first, size, color, _, _) = inner.first {
            let step = Theme.captionSize + 5
            let lines = TextMetrics.wrap(caption, size: size, maxWidth: max(scene.width - 2 * Theme.margin, FigureFrame.minimumCaptionWidth))
            scene.items[i] = .group("caption", lines.enumerated().map { .text($1, at: Point(first.x, first.y + Double($0) * step), size: size, color: color) })
            scene.height += Double(lines.count - inner.count) * step
            scene.width = max(scene.width, ((lines.map { TextMetrics.width($0, size: size) * 0.94 }.max() ?? 0) + 2 * Theme.margin).rounded(.up))
        }
        return scene
    }
}
