import ConvVizCore
import Foundation

/// A microscope site's pages: static HTML that opens from disk or any web server, with
/// no network access. `index.html` holds the shape table and a strip of feature
/// visualizations per layer; `layer-L.html` a card per channel; `units/L/C/index.html`
/// one unit, larger. Pages link one CSS and one script (`microscope.js`: arrow keys
/// between neighbours, Esc up a level, the channel search). Images load lazily.
public struct MicroscopeSite {
    public struct Layer {
        public var name: String
        public var slug: String
        /// Output per image `[C, H, W]`.
        public var shape: [Int]
        /// One record per channel shown, in channel order.
        public var units: [MicroscopeUnit]
        /// Whether the units have `kernel.png`.
        public var hasKernels: Bool

        public init(name: String, slug: String, shape: [Int], units: [MicroscopeUnit], hasKernels: Bool) {
            self.name = name
            self.slug = slug
            self.shape = shape
            self.units = units
            self.hasKernels = hasKernels
        }
    }

    public var model: String
    public var data: String
    public var table: ShapeTable
    public var layers: [Layer]
    /// The data's class names (empty: no labels, no class chart).
    public var classes: [String]
    /// Names of the `--image` photos (their pictures are `photos/I.png`).
    public var photos: [String]
    /// How the pictures were made, one sentence each language.
    public var settingsNote: String
    public var language: Language

    public init(model: String, data: String, table: ShapeTable, layers: [Layer], classes: [String], photos: [String],
                settingsNote: String, language: Language) {
        self.model = model
        self.data = data
        self.table = table
        self.layers = layers
        self.classes = classes
        self.photos = photos
        self.settingsNote = settingsNote
        self.language = language
    }

    static func esc(_ s: String) -> String { Report.escape(s) }

    public static func layerPage(_ slug: String) -> String { "layer-\(slug).html" }
    public static func unitPage(_ slug: String, _ channel: Int) -> String { "units/\(slug)/\(channel)/index.html" }
    static func unitFolder(_ slug: String, _ channel: Int) -> String { "units/\(slug)/\(channel)" }

    /// Every page and asset: (path under the site, contents).
    public func pages() -> [(path: String, text: String)] {
        var out: [(String, String)] = [("microscope.css", Self.css), ("microscope.js", Self.script), ("index.html", index())]
        for (i, layer) in layers.enumerated() {
            out.append((Self.layerPage(layer.slug), layerPage(i)))
            for k in layer.units.indices { out.append((Self.unitPage(layer.slug, layer.units[k].channel), unitPage(i, k))) }
        }
        return out
    }

    public func write(to site: URL) throws {
        for (path, text) in pages() {
            let url = site.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try AtomicFile.write(text, to: url)
        }
    }

    /// The page frame: `root` is the path back to the site's top ("" or "../../../");
    /// `nav` the neighbours the script follows (prev, next, up).
    func page(title: String, root: String, nav: (prev: String?, next: String?, up: String?), body: String) -> String {
        var attributes = ""
        if let p = nav.prev { attributes += " data-prev=\"\(Self.esc(p))\"" }
        if let n = nav.next { attributes += " data-next=\"\(Self.esc(n))\"" }
        if let u = nav.up { attributes += " data-up=\"\(Self.esc(u))\"" }
        return """
        <!DOCTYPE html>
        <html lang="\(language.htmlCode)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Self.esc(title))</title>
        <link rel="stylesheet" href="\(root)microscope.css">
        </head>
        <body\(attributes)>
        \(body)
        <p class="keys">\(language("Keys: ← → neighbours, Esc up a level, / search.", "按键：← → 相邻，Esc 返回上一级，/ 搜索。"))</p>
        <script src="\(root)microscope.js"></script>
        </body>
        </html>

        """
    }

    func number(_ v: Float) -> String { String(format: "%.3g", v) }
    func shape(_ s: [Int]) -> String { s.map(String.init).joined(separator: "×") }
    func field(_ f: [Double]) -> String { f.map { $0 == $0.rounded() ? String(Int($0)) : String(format: "%.1f", $0) }.joined(separator: "×") }

    func index() -> String {
        let l = language
        var rows = ""
        for row in table.rows {
            let shown = layers.first { $0.name == row.name }
            let name = shown.map { "<a href=\"\(Self.layerPage($0.slug))\">\(Self.esc(row.name))</a>" } ?? Self.esc(row.name)
            rows += "<tr><td>\(name)</td><td>\(Self.esc(row.type))</td><td>\(shape(row.output))</td><td>\(row.params)</td><td>\(field(row.receptiveField))</td></tr>\n"
        }
        var strips = ""
        for layer in layers {
            strips += "<section class=\"strip\"><h2><a href=\"\(Self.layerPage(layer.slug))\">\(Self.esc(layer.name))</a> <small>\(shape(layer.shape)), \(l("\(layer.units.count) units", "\(layer.units.count) 个单元"))</small></h2>\n<div class=\"thumbs\">"
            for u in layer.units {
                let folder = Self.unitFolder(layer.slug, u.channel)
                strips += "<a href=\"\(Self.unitPage(layer.slug, u.channel))\" title=\"\(Self.esc(layer.name)) \(u.channel)\"><img loading=\"lazy\" src=\"\(folder)/vis.png\" alt=\"\(Self.esc(layer.name)) \(u.channel)\" width=\"56\" height=\"56\"></a>"
            }
            strips += "</div></section>\n"
        }
        let body = """
        <header><h1>\(l("Microscope", "显微镜")): \(Self.esc(model))</h1>
        <p>\(l("Data", "数据")): \(Self.esc(data)). \(Self.esc(settingsNote))</p>
        <input id="search" type="search" placeholder="\(l("layer:channel, e.g. \(layers.first?.name ?? "conv1"):3", "层:通道，例如 \(layers.first?.name ?? "conv1"):3"))" data-layers="\(Self.esc(layers.map(\.slug).joined(separator: " ")))" data-names="\(Self.esc(layers.map(\.name).joined(separator: " ")))">
        </header>
        <h2>\(l("Layers", "各层"))</h2>
        <table class="shapes"><thead><tr><th>\(l("layer", "层"))</th><th>\(l("type", "类型"))</th><th>\(l("output", "输出"))</th><th>\(l("parameters", "参数"))</th><th>\(l("receptive field", "感受野"))</th></tr></thead>
        <tbody>
        \(rows)</tbody></table>
        \(strips)
        """
        return page(title: l("Microscope: \(model)", "显微镜：\(model)"), root: "", nav: (nil, layers.first.map { Self.layerPage($0.slug) }, nil), body: body)
    }

    /// The classes of a unit's best images as horizontal bars (HTML, no image).
    func classChart(_ u: MicroscopeUnit) -> String {
        guard !classes.isEmpty, u.classCounts.count == classes.count else { return "" }
        let top = max(u.classCounts.max() ?? 1, 1), n = u.classCounts.reduce(0, +)
        var out = "<div class=\"classes\"><p class=\"what\">\(language("classes of its best \(n) images", "其最佳 \(n) 张图像的类别"))</p>"
        for (name, count) in zip(classes, u.classCounts) {
            out += "<div class=\"bar\"><span class=\"name\">\(Self.esc(name))</span><span class=\"fill\" style=\"width:\(100 * count / top)%\"></span><span class=\"count\">\(count)</span></div>"
        }
        return out + "</div>"
    }

    func layerPage(_ i: Int) -> String {
        let l = language, layer = layers[i]
        var cards = ""
        for u in layer.units {
            let folder = Self.unitFolder(layer.slug, u.channel)
            var pictures = "<img class=\"vis\" loading=\"lazy\" src=\"\(folder)/vis.png\" alt=\"\(l("feature visualization", "特征可视化"))\">"
            if !u.patches.isEmpty { pictures += "<img class=\"patches\" loading=\"lazy\" src=\"\(folder)/patches.png\" alt=\"\(l("top patches", "最强激活图块"))\">" }
            if layer.hasKernels { pictures += "<img class=\"kernel\" loading=\"lazy\" src=\"\(folder)/kernel.png\" alt=\"\(l("kernel", "卷积核"))\">" }
            cards += """
            <a class="card" id="c\(u.channel)" data-channel="\(u.channel)" href="\(Self.unitPage(layer.slug, u.channel))">
            <h3>\(l("channel", "通道")) \(u.channel)</h3>
            <div class="pictures">\(pictures)</div>
            <p class="stats">\(l("mean", "平均激活")) \(number(u.meanActivation)) · \(l("objective", "目标值")) \(number(u.objective))</p>
            \(classChart(u))
            </a>

            """
        }
        let prev = i > 0 ? Self.layerPage(layers[i - 1].slug) : nil, next = i + 1 < layers.count ? Self.layerPage(layers[i + 1].slug) : nil
        let body = """
        <header><p class="crumbs"><a href="index.html">\(Self.esc(model))</a> › \(Self.esc(layer.name))</p>
        <h1>\(Self.esc(layer.name)) <small>\(shape(layer.shape))</small></h1>
        <p>\(l("Each card: the feature visualization, the top \(layer.units.first?.patches.count ?? 0) dataset patches (best first), the kernel, the channel's mean activation over the data and, with labels, the classes of its best images.", "每张卡片：特征可视化、数据集中激活最强的 \(layer.units.first?.patches.count ?? 0) 个图块（由强到弱）、卷积核、该通道在数据上的平均激活，以及（有标签时）其最佳图像的类别。"))</p>
        <input id="search" type="search" inputmode="numeric" placeholder="\(l("channel number", "通道编号"))">
        </header>
        <main class="cards">
        \(cards)</main>
        """
        return page(title: "\(layer.name) · \(model)", root: "", nav: (prev, next, "index.html"), body: body)
    }

    func unitPage(_ i: Int, _ k: Int) -> String {
        let l = language, layer = layers[i], u = layer.units[k]
        let root = "../../../"
        func unit(_ li: Int, _ ki: Int) -> String { "\(root)\(Self.unitPage(layers[li].slug, layers[li].units[ki].channel))" }
        // Neighbours: the channels beside it, across layer ends.
        var prev: String?, next: String?
        if k > 0 { prev = unit(i, k - 1) } else if i > 0, !layers[i - 1].units.isEmpty { prev = unit(i - 1, layers[i - 1].units.count - 1) }
        if k + 1 < layer.units.count { next = unit(i, k + 1) } else if i + 1 < layers.count, !layers[i + 1].units.isEmpty { next = unit(i + 1, 0) }
        var patches = ""
        for (n, p) in u.patches.enumerated() {
            let label = p.label.flatMap { classes.indices.contains($0) ? classes[$0] : nil }.map { ", \(Self.esc($0))" } ?? ""
            patches += "<li>#\(n + 1): \(l("image", "图像")) \(p.image)\(label), (y, x) = (\(p.y), \(p.x)), \(l("value", "值")) \(number(p.value))</li>"
        }
        var maps = ""
        for (n, name) in photos.enumerated() {
            maps += "<figure><img loading=\"lazy\" src=\"\(root)photos/\(n).png\" alt=\"\(Self.esc(name))\"><img loading=\"lazy\" src=\"map-\(n).png\" alt=\"\(l("activation map", "激活图")) \(Self.esc(name))\"><figcaption>\(Self.esc(name))</figcaption></figure>"
        }
        let neighbours = [prev.map { "<a rel=\"prev\" href=\"\($0)\">← \(l("previous", "上一个"))</a>" },
                          "<a rel=\"up\" href=\"\(root)\(Self.layerPage(layer.slug))#c\(u.channel)\">\(Self.esc(layer.name))</a>",
                          next.map { "<a rel=\"next\" href=\"\($0)\">\(l("next", "下一个")) →</a>" }].compactMap { $0 }.joined(separator: " · ")
        let body = """
        <header><p class="crumbs"><a href="\(root)index.html">\(Self.esc(model))</a> › <a href="\(root)\(Self.layerPage(layer.slug))">\(Self.esc(layer.name))</a> › \(u.channel)</p>
        <h1>\(Self.esc(layer.name)) · \(l("channel", "通道")) \(u.channel)</h1>
        <nav>\(neighbours)</nav>
        </header>
        <main class="unit">
        <section><h2>\(l("Feature visualization", "特征可视化"))</h2><img class="big vis" loading="lazy" src="vis.png" alt="\(l("feature visualization", "特征可视化"))">
        <p>\(l("objective reached", "达到的目标值")) \(number(u.objective))</p></section>
        \(u.patches.isEmpty ? "" : "<section><h2>\(l("Top dataset patches", "数据集中激活最强的图块"))</h2><img class=\"big patches\" loading=\"lazy\" src=\"patches.png\" alt=\"\(l("top patches", "最强激活图块"))\"><ol class=\"patch-list\">\(patches)</ol></section>")
        \(layer.hasKernels ? "<section><h2>\(l("Kernel", "卷积核"))</h2><img class=\"big kernel\" loading=\"lazy\" src=\"kernel.png\" alt=\"\(l("kernel", "卷积核"))\"></section>" : "")
        <section><h2>\(l("Numbers", "数值"))</h2><ul>
        <li>\(l("receptive field", "感受野")): \(field(u.receptiveField)) \(l("input pixels", "输入像素"))</li>
        <li>\(l("mean activation over the data", "在数据上的平均激活")): \(number(u.meanActivation))</li>
        </ul>\(classChart(u))</section>
        \(maps.isEmpty ? "" : "<section class=\"maps\"><h2>\(l("Activation maps", "激活图"))</h2>\(maps)</section>")
        </main>
        """
        return page(title: "\(layer.name) \(u.channel) · \(model)", root: root, nav: (prev, next, "\(root)\(Self.layerPage(layer.slug))"), body: body)
    }
}
