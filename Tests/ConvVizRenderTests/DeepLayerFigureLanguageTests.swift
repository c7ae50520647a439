import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender

/// Issue 14 on the filter and receptive-field figures, the ones no command of their own
/// reaches too (the demo's filmstrip and comparison, the stage-by-stage growth): in
/// Chinese every title and caption line is Chinese, the user's title and caption replace
/// the figure's, and English is the default.
final class DeepLayerFigureLanguageTests: XCTestCase {
    func hasCJK(_ s: String) -> Bool { s.unicodeScalars.contains { (0x3000...0x9FFF).contains($0.value) || (0xFF00...0xFFEF).contains($0.value) } }

    func texts(_ scene: Scene, group: String) -> [String] {
        for case let .group(name, items) in scene.items where name == group {
            return items.compactMap { if case let .text(s, _, _, _, _, _) = $0 { return s }; return nil }
        }
        return []
    }

    func filters(_ n: Int = 6) -> Tensor {
        var w = Tensor(shape: [n, 3, 5, 5])
        var rng = SeededGenerator(seed: 8)
        for i in 0..<w.count { w.data[i] = rng.uniform(-1, 1) }
        return w
    }

    /// Each figure as a function of its words.
    func figures() throws -> [(name: String, scene: (FigureText) -> Scene)] {
        let w = filters(), taxonomy = FilterTaxonomy(weights: w)
        let conv = LayerSpec(.conv, out: 2, kernel: Pair(3), padding: Pair(1))
        let pool = LayerSpec(.maxpool, kernel: Pair(2), stride: Pair(2))
        let arch = Architecture(name: "t", input: [1, 16, 16], layers: [conv, conv, pool, conv])
        let table = try ShapeTable(arch)
        return [
            ("mosaic", { text in var m = FilterMosaic(weights: w); m.labels = true; m.text = text; return m.scene() }),
            ("grid", { text in var g = KernelGrid(weights: w); g.text = text; return g.scene() }),
            ("pca", { text in var p = KernelPCA(weights: w); p.text = text; return p.scene() }),
            ("maps", { text in var a = ActivationMaps(maps: Tensor(shape: [4, 6, 6], repeating: 1), layer: "relu1"); a.text = text; return a.scene() }),
            ("comparison", { text in
                var c = FilterComparison(panels: [.init(label: "SGD", weights: w, taxonomy: taxonomy, notes: []),
                                                  .init(label: "k-means", weights: w, taxonomy: taxonomy, notes: [])])
                c.text = text; return c.scene()
            }),
            ("filmstrip", { text in var f = FilterFilmstrip(snapshots: [(0, w), (100, w)], order: [0, 1, 2]); f.text = text; return f.scene() }),
            ("overlay", { text in
                var o = ReceptiveFieldOverlay(image: Tensor(shape: [1, 16, 16], repeating: 0.5), boxes: ReceptiveFieldOverlay.boxes(table: table, layer: 3, unit: (y: 2, x: 2)), unitLabel: "conv4")
                o.text = text; return o.scene()
            }),
            ("stages", { text in var s = ReceptiveFieldStages(title: text.language("Growth", "感受野的增长"), table: table); s.text = text; return s.scene() }),
        ]
    }

    func testChineseWordsEveryTitleAndCaptionLine() throws {
        for (name, scene) in try figures() {
            let zh = scene(FigureText(language: .zh))
            XCTAssert(texts(zh, group: "title").contains(where: hasCJK), "\(name): \(texts(zh, group: "title"))")
            let caption = texts(zh, group: "caption")
            XCTAssertFalse(caption.isEmpty, name)
            XCTAssert(caption.allSatisfy(hasCJK), "\(name): \(caption)")
            let en = scene(FigureText())
            XCTAssertFalse(en.texts.contains(where: hasCJK), "\(name): English by default: \(en.texts.filter(hasCJK))")
        }
    }

    func testUserTitleAndCaptionReplaceTheFigures() throws {
        for (name, scene) in try figures() {
            let own = scene(FigureText(title: "卷积 (mine)", caption: "Made for lecture 5.", language: .en))
            XCTAssertEqual(texts(own, group: "title"), ["卷积 (mine)"], name)
            XCTAssertEqual(texts(own, group: "caption"), ["Made for lecture 5."], name)
        }
    }

    /// Words inside the drawing follow the language too: legends, panel titles, step labels.
    func testLabelsInsideTheDrawingAreTranslated() throws {
        let all = try figures()
        let zh = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0.scene(FigureText(language: .zh)).texts) })
        XCTAssert(zh["filmstrip"]!.contains("第 100 步"), "\(zh["filmstrip"]!)")
        XCTAssert(zh["overlay"]!.contains("理论感受野"), "\(zh["overlay"]!)")
        XCTAssert(zh["maps"]!.contains("输入") || !zh["maps"]!.contains("input"))
        XCTAssert(zh["stages"]!.contains { $0.hasPrefix("输入 ") }, "\(zh["stages"]!)")
        XCTAssert(zh["grid"]!.contains("滤波器"), "the row axis label")
    }
}
