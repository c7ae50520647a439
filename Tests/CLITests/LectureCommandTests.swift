import Foundation
import XCTest

/// `convviz lecture`: the whole atlas (with --smoke training budgets, same code paths)
/// and single figures, end to end.
final class LectureCommandTests: XCTestCase {
    let temp = CLIFiles.temporaryDirectory("lecture")
    let ids = ["conv-layer", "conv-batched", "stacking", "first-layer-filters", "receptive-field", "stride", "conv-summary", "one-by-one",
               "pooling", "pooling-shift", "bn-matrix", "bn-train-test", "bn-folding", "bn-convnets", "norm-groups", "bn-batch-size"]

    func testTheAtlasInChinese() throws {
        let dir = temp.appendingPathComponent("zh")
        let r = try ConvVizProcess.run(["lecture", "--out", dir.path, "--lang", "zh", "--smoke", "--seed", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // Progress and the closing line speak the atlas's language too.
        XCTAssert(r.stdout.contains("已写入 51 个文件"), r.stdout)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
        let figures = manifest["figures"] as! [[String: Any]]
        XCTAssertEqual(figures.map { $0["id"] as! String }, ids, "the course's order, every id")
        for f in figures {
            let id = f["id"] as! String
            XCTAssertEqual(f["files"] as! [String], ["\(id).png", "\(id).svg", "\(id).pdf"])
            for file in f["files"] as! [String] {
                let data = try Data(contentsOf: dir.appendingPathComponent(file))
                XCTAssertGreaterThan(data.count, 500, file)
            }
            XCTAssert((f["title"] as! String).unicodeScalars.contains { $0.value >= 0x4E00 && $0.value <= 0x9FFF }, "\(id): \(f["title"]!)")
            // The SVG's title group holds Chinese text as drawn.
            let svg = try String(contentsOf: dir.appendingPathComponent("\(id).svg"), encoding: .utf8)
            let title = try XCTUnwrap(svg.range(of: "<g data-name=\"title\">"), id)
            let after = svg[title.upperBound...].prefix(400)
            XCTAssert(after.unicodeScalars.contains { $0.value >= 0x4E00 && $0.value <= 0x9FFF }, "\(id): \(after)")
            try CLIFiles.assertPNG(at: dir.appendingPathComponent("\(id).png").path, size: f["size"] as! [Int])
        }
        try checkAtlasContent(dir, figures)
        let html = try String(contentsOf: dir.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssert(html.contains("<html lang=\"zh-Hans\">"))
        XCTAssertEqual(html.components(separatedBy: "<figure id=").count - 1, 16)
        let handout = try Data(contentsOf: dir.appendingPathComponent("handout.pdf"))
        let pdf = String(decoding: handout, as: UTF8.self)
        let pages = try NSRegularExpression(pattern: "/Type\\s*/Page[^s]").numberOfMatches(in: pdf, range: NSRange(pdf.startIndex..., in: pdf))
        XCTAssertEqual(pages, 16, "one page per figure")
    }

    /// What the atlas's figures say: the lecture's arithmetic as drawn in each SVG, the
    /// manifest's settings, and captions that agree with the figures.
    func checkAtlasContent(_ dir: URL, _ figures: [[String: Any]], file: StaticString = #filePath, line: UInt = #line) throws {
        var texts: [String: [String]] = [:], settings: [String: [String: String]] = [:], captions: [String: String] = [:]
        for f in figures {
            let id = f["id"] as! String
            texts[id] = try CLIFiles.svgTexts(at: dir.appendingPathComponent("\(id).svg").path)
            settings[id] = f["settings"] as? [String: String] ?? [:]
            captions[id] = f["caption"] as? String ?? ""
        }
        func has(_ id: String, _ text: String) { XCTAssert(texts[id]!.contains(text), "\(id): no \"\(text)\" in \(texts[id]!)", file: file, line: line) }
        func mentions(_ id: String, _ text: String) { XCTAssert(texts[id]!.joined().contains(text), "\(id): no \"\(text)\" in \(texts[id]!)", file: file, line: line) }
        // The classic volume: 3x32x32, one 3x5x5 filter over 28x28 positions, six of them.
        has("conv-layer", "输入图像 3×32×32"); has("conv-layer", "滤波器 3×5×5")
        XCTAssert(captions["conv-layer"]!.contains("6×28×28"), captions["conv-layer"]!, file: file, line: line)
        mentions("stacking", "W3+b3 = 12·10·3·3 + 12 = 1092")
        // 1x1: 32·64 + 32 parameters, 32·64·56·56 multiply-adds.
        mentions("one-by-one", "2080 个参数，6,422,528 次乘加")
        has("receptive-field", "输入 9×9：顶层单元的感受野 7×7")
        mentions("stride", "感受野为 9×9 而不是 7×7")
        has("pooling", "输出 4x4"); mentions("pooling", "= 4。")
        // The shifted patch: unchanged and changed pooled values make up the 16 outputs.
        let shift = texts["pooling-shift"]!.joined()
        let counts = try XCTUnwrap(shift.range(of: #"有 \d+ 个不变（绿色），\d+ 个改变"#, options: .regularExpression).map { shift[$0] }, shift, file: file, line: line)
        let numbers = counts.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        XCTAssertEqual(numbers.reduce(0, +), 16, String(counts), file: file, line: line)
        mentions("bn-matrix", "N x D = 6 x 4"); XCTAssertEqual(settings["bn-matrix"]!["N"], "6", file: file, line: line)
        // The trained figures: the smoke budget's steps and the seed, in settings and captions.
        XCTAssertEqual(settings["first-layer-filters"]!, ["steps": "20", "seed": "3"], file: file, line: line)
        has("first-layer-filters", "梯度下降学到的第一层滤波器（48×3×11×11）")
        let squeezed = { (s: String) in s.filter { !$0.isWhitespace } }
        XCTAssert(squeezed(texts["first-layer-filters"]!.joined()).contains(squeezed(captions["first-layer-filters"]!)), "the figure draws the manifest's caption", file: file, line: line)
        XCTAssert(captions["first-layer-filters"]!.contains("20 步 SGD，随机种子 3"), captions["first-layer-filters"]!, file: file, line: line)
        XCTAssertEqual(settings["bn-batch-size"]!["batch sizes"], "2,4", file: file, line: line)
    }

    func testOneFigureWithItsOwnWords() throws {
        let svg = temp.appendingPathComponent("stride.svg").path
        let r = try ConvVizProcess.run(["lecture", "--figure", "stride", "-o", svg, "--lang", "zh", "--title", "步幅与感受野", "--caption", "自定义的说明文字。"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssert(text.contains("<g data-name=\"title\">\n<text") && text.contains(">步幅与感受野</text>"), "title replaced")
        XCTAssert(text.contains(">自定义的说明文字。</text>"), "caption replaced")
        // --scale 2: twice the pixels on each side.
        let png = temp.appendingPathComponent("summary.png").path, png2 = temp.appendingPathComponent("summary2.png").path
        XCTAssertEqual(try ConvVizProcess.run(["lecture", "--figure", "conv-summary", "-o", png]).status, 0)
        XCTAssertEqual(try ConvVizProcess.run(["lecture", "--figure", "conv-summary", "-o", png2, "--scale", "2"]).status, 0)
        let (w1, h1) = try CLIFiles.pngSize(at: png), (w2, h2) = try CLIFiles.pngSize(at: png2)
        XCTAssertEqual([w2, h2], [2 * w1, 2 * h1])
    }

    func testUsageErrors() throws {
        let unknown = try ConvVizProcess.run(["lecture", "--figure", "dropout", "-o", temp.appendingPathComponent("x.svg").path])
        XCTAssertEqual(unknown.status, 64)
        XCTAssert(unknown.stderr.contains("'dropout'") && unknown.stderr.contains("bn-batch-size"), unknown.stderr)
        let neither = try ConvVizProcess.run(["lecture"])
        XCTAssertEqual(neither.status, 64)
        XCTAssert(neither.stderr.contains("--out DIR") && neither.stderr.contains("--figure ID"), neither.stderr)
        let both = try ConvVizProcess.run(["lecture", "--out", temp.path, "--figure", "stride", "-o", "x.svg"])
        XCTAssertEqual(both.status, 64)
        let noOutput = try ConvVizProcess.run(["lecture", "--figure", "stride"])
        XCTAssertEqual(noOutput.status, 64)
        XCTAssert(noOutput.stderr.contains("-o FILE"), noOutput.stderr)
        let lang = try ConvVizProcess.run(["lecture", "--figure", "stride", "-o", "x.svg", "--lang", "fr"])
        XCTAssertEqual(lang.status, 64)
        XCTAssert(lang.stderr.contains("fr"), lang.stderr)
        // A negative scale is a value out of range, not an unknown option, here and on the
        // other figure commands.
        for command in [["lecture", "--figure", "stride"], ["pooling"]] {
            let negative = try ConvVizProcess.run(command + ["-o", temp.appendingPathComponent("x.png").path, "--scale", "-1"])
            XCTAssertEqual(negative.status, 64)
            XCTAssert(negative.stderr.contains("--scale must be between 0.25 and 8 (got -1.0)"), negative.stderr)
        }
    }

    func testVolumesWithBatchDepthAndChineseLabels() throws {
        let svg = temp.appendingPathComponent("vol.svg").path
        let arch = CLIFiles.repository.appendingPathComponent("Examples/lecture-cifar.json").path
        let r = try ConvVizProcess.run(["volumes", arch, "--batch", "N", "--depth", "log", "--lang", "zh", "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        let texts = try CLIFiles.svgTexts(at: svg)
        XCTAssert(texts.contains("一批输入图像"), "\(texts)")
        XCTAssert(texts.contains { $0.hasPrefix("N×3×") }, "\(texts)")
        let bad = try ConvVizProcess.run(["volumes", arch, "--batch", "0", "-o", svg])
        XCTAssertEqual(bad.status, 64)
        XCTAssert(bad.stderr.contains("--batch"), bad.stderr)
    }

    func testReceptiveFieldGrowthOnTwoDimensionalGrids() throws {
        let svg = temp.appendingPathComponent("growth.svg").path
        let r = try ConvVizProcess.run(["rf-growth", "--lang", "zh", "--title", "感受野", "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssert(text.contains(">感受野</text>"))
        // Three 3x3 layers: a 7x7 square of the 9x9 input is shaded (49 of 81 cells), and
        // with a 2x2 stride-2 pool in the middle the field is 12x12.
        let texts = try CLIFiles.svgTexts(at: svg)
        XCTAssert(texts.contains("输入 9×9：顶层单元的感受野 7×7"), "\(texts)")
        XCTAssert(texts.contains("输入 20×20：顶层单元的感受野 12×12"), "\(texts)")
        let strip = try ConvVizProcess.run(["rf-growth", "--view", "strip", "-o", svg])
        XCTAssertEqual(strip.status, 0, strip.stderr)
        XCTAssert(try CLIFiles.svgTexts(at: svg).contains("How the receptive field grows"))
    }

    /// `bn-batch-size` runs on the threads it is given; `first-layer-filters`' recipe on
    /// its own fixed workers (on the caller's it gave other bytes for 1 and 3: see
    /// `GradientFilterRecipeTests`), which this guards end to end.
    func testTrainedFiguresAreTheSameBytesOnAnyThreadCount() throws {
        for id in ["first-layer-filters", "bn-batch-size"] {
            var bytes: [Data] = []
            for threads in ["1", "3"] {
                let png = temp.appendingPathComponent("\(id)-\(threads).png")
                let r = try ConvVizProcess.run(["lecture", "--figure", id, "--smoke", "--threads", threads, "-o", png.path])
                XCTAssertEqual(r.status, 0, r.stderr)
                bytes.append(try Data(contentsOf: png))
            }
            XCTAssertEqual(bytes[0], bytes[1], "\(id): --threads 1 and 3 drew different bytes")
        }
    }
}
