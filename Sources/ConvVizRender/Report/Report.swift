import ConvVizCore
import Foundation

/// A report: figures written as PNG and SVG, an `index.html` page with a caption and the
/// settings for every figure, a `manifest.json`, and a PDF handout with one figure per
/// page. Every file is written atomically.
public struct Report {
    public struct Figure {
        public var id: String
        public var title: String
        public var caption: String
        public var settings: [String: String]
        public var scene: Scene
        /// The figure's animation, written beside the report by its maker: relative paths,
        /// a GIF first (shown on the page) and any other formats (linked).
        public var animations: [String] = []
        public init(id: String, title: String, caption: String, settings: [String: String] = [:], scene: Scene) {
            self.id = id; self.title = title; self.caption = caption; self.settings = settings; self.scene = scene
        }
    }

    public var title: String
    public var introduction: String
    public var figures: [Figure] = []
    /// Run-wide facts for the manifest and the page (seed, timings, results).
    public var facts: [(String, String)] = []
    /// The language of the page's own words (its `lang`, link labels).
    public var language: Language = .en
    /// Each figure's files; the handout holds every figure as one PDF.
    public var formats: [OutputFormat] = [.png, .svg]
    /// PNG pixels per point.
    public var pngScale: Double = 1
    /// Other files of the report the page links to, as (label, file name).
    public var links: [(String, String)] = []

    public init(title: String, introduction: String) {
        self.title = title
        self.introduction = introduction
    }

    /// Library versions, for the manifest.
    public static var versions: [String: String] {
        ["convviz": ConvVizVersion.string, "cairo": DrawingLibraries.cairo, "pango": DrawingLibraries.pango,
         "openblas": BLAS.configuration]
    }

    /// Writes everything under `directory`; returns the paths written.
    @discardableResult
    public func write(to directory: URL, handoutName: String = "handout.pdf") throws -> [String] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written: [String] = []
        for f in figures {
            for format in formats {
                let name = "\(f.id).\(format.rawValue)"
                try AtomicFile.write(try Canvas.render(f.scene, format: format, pngScale: pngScale), to: directory.appendingPathComponent(name))
                written.append(name)
            }
        }
        try AtomicFile.write(try Canvas.renderPDF(pages: figures.map(\.scene)), to: directory.appendingPathComponent(handoutName))
        written.append(handoutName)
        try AtomicFile.write(html(handout: handoutName), to: directory.appendingPathComponent("index.html"))
        try AtomicFile.write(try manifest(handout: handoutName), to: directory.appendingPathComponent("manifest.json"))
        written += ["index.html", "manifest.json"]
        return written
    }

    func manifest(handout: String) throws -> Data {
        let figs: [[String: Any]] = figures.map { f in
            ["id": f.id, "title": f.title, "caption": f.caption, "settings": f.settings,
             "files": formats.map { "\(f.id).\($0.rawValue)" }, "size": [Int(f.scene.width), Int(f.scene.height)], "animations": f.animations]
        }
        let root: [String: Any] = ["title": title, "figures": figs, "handout": handout, "versions": Self.versions,
                                   "facts": Dictionary(facts, uniquingKeysWith: { a, _ in a })]
        // Titles, captions and settings are strings and numbers: JSON can hold them all.
        return try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys, .prettyPrinted])
    }

    static func escape(_ s: String) -> String { SVGPostProcessing.escape(s) }

    func html(handout: String) -> String {
        var s = """
        <!DOCTYPE html>
        <html lang="\(language.htmlCode)"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Self.escape(title))</title>
        <style>
        body { font-family: "DejaVu Sans", "Noto Sans CJK SC", sans-serif; color: #222226; max-width: 1180px; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.5; }
        h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin: 0 0 .4rem; }
        .intro { color: #55555c; } .facts { border-collapse: collapse; margin: 1rem 0 2rem; font-size: .9rem; }
        .facts td { padding: .15rem .8rem .15rem 0; } .facts td:first-child { color: #6b6b75; }
        figure { margin: 0 0 2.5rem; padding: 1.2rem; border: 1px solid #e4e4ea; border-radius: 8px; }
        figure img { max-width: 100%; height: auto; display: block; margin: .5rem 0; }
        figcaption { color: #444; font-size: .95rem; } details { font-size: .85rem; color: #55555c; margin-top: .4rem; }
        details table { border-collapse: collapse; } details td { padding: .1rem .8rem .1rem 0; font-family: monospace; }
        .links { font-size: .85rem; } a { color: #2961bd; }
        .drawn { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
        </style></head><body>
        <h1>\(Self.escape(title))</h1>
        <p class="intro">\(Self.escape(introduction))</p>
        <table class="facts">
        """
        for (k, v) in facts { s += "<tr><td>\(Self.escape(k))</td><td>\(Self.escape(v))</td></tr>\n" }
        let l = language
        let others = ([("manifest.json", "manifest.json")] + links).map { "<a href=\"\(Self.escape($0.1))\">\(Self.escape($0.0))</a>" }
        s += "</table>\n<p class=\"links\">\(l("All figures as one PDF", "全部插图（一个 PDF 文件）")): <a href=\"\(handout)\">\(handout)</a> · \(others.joined(separator: " · "))</p>\n"
        for f in figures {
            // A figure that draws its own title and caption would show them twice: the
            // page keeps them as text (for search, screen readers and the outline) but
            // out of sight.
            let drawn = { (group: String) in f.scene.hasGroup(group) ? " class=\"drawn\"" : "" }
            s += """
            <figure id="\(f.id)"><h2\(drawn("title"))>\(Self.escape(f.title))</h2>
            <img src="\(f.id).png" width="\(Int(f.scene.width))" height="\(Int(f.scene.height))" alt="\(Self.escape(f.title))">
            <figcaption\(drawn("caption"))>\(Self.escape(f.caption))</figcaption>
            <p class="links">\(formats.map { "<a href=\"\(f.id).\($0.rawValue)\">\($0.rawValue.uppercased())</a>" }.joined(separator: " · "))</p>
            """
            if let shown = f.animations.first {
                let label = l("animated", "动画")
                s += "<img src=\"\(Self.escape(shown))\" loading=\"lazy\" alt=\"\(Self.escape(f.title)) (\(label))\">\n"
                s += "<p class=\"links\">\(label): " + f.animations.map { "<a href=\"\(Self.escape($0))\">\(Self.escape(($0 as NSString).pathExtension.uppercased()))</a>" }.joined(separator: " · ") + "</p>\n"
            }
            if !f.settings.isEmpty {
                s += "<details><summary>\(l("Settings", "设置"))</summary><table>"
                for (k, v) in f.settings.sorted(by: { $0.key < $1.key }) { s += "<tr><td>\(Self.escape(k))</td><td>\(Self.escape(v))</td></tr>" }
                s += "</table></details>"
            }
            s += "</figure>\n"
        }
        return s + "</body></html>\n"
    }
}

/// The version the tool reports.
public enum ConvVizVersion {
    public static let string = "0.1.0"
}
