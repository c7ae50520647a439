/// Title on top, caption at the bottom, content in between: the frame every figure
/// shares. `contentOrigin` is where a figure starts drawing.
public struct FigureFrame {
    public let title: String
    public let caption: [String]
    public let contentWidth: Double
    public let contentHeight: Double

    public init(title: String, caption: [String], contentWidth: Double, contentHeight: Double) {
        self.title = title
        self.caption = caption
        self.contentWidth = contentWidth
        self.contentHeight = contentHeight
    }

    var titleHeight: Double { title.isEmpty ? 0 : Theme.titleSize + 14 }
    var captionHeight: Double { caption.isEmpty ? 0 : Double(caption.count) * (Theme.captionSize + 5) + 8 }
    public var contentOrigin: Point { Point(Theme.margin, Theme.margin + titleHeight) }

    /// A scene of the right size holding the title and caption.
    public func makeScene() -> Scene {
        // Text is measured when drawn, not here; 0.62 em per character is DejaVu Sans's
        // widest typical average, so captions and titles are never clipped.
        let textWidth = max(Double(title.count) * Theme.titleSize * 0.62, caption.map { Double($0.count) * Theme.captionSize * 0.58 }.max() ?? 0)
        let width = max(contentWidth, textWidth) + 2 * Theme.margin
        let height = contentHeight + titleHeight + captionHeight + 2 * Theme.margin
        var scene = Scene(width: width.rounded(.up), height: height.rounded(.up))
        if !title.isEmpty {
            scene.add(.text(title, at: Point(Theme.margin, Theme.margin + Theme.titleSize / 2 + 2), size: Theme.titleSize, color: Theme.ink, bold: true))
        }
        var y = Theme.margin + titleHeight + contentHeight + 8 + Theme.captionSize / 2 + 2
        for line in caption {
            scene.add(.text(line, at: Point(Theme.margin, y), size: Theme.captionSize, color: Theme.muted))
            y += Theme.captionSize + 5
        }
        return scene
    }
}
