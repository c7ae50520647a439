import ArgumentParser
import ConvVizRender
import Foundation

/// `--page-size N` and `--max-svg-mb`: how a figure that grows with its data (filters,
/// maps) is kept readable. Paging splits the selection into numbered files beside the
/// output (`maps.png` -> `maps-1.png`, `maps-2.png`, ...), each fitted under the caps on
/// its own; the SVG budget makes a figure drawn as SVG hold fewer tiles rather than grow
/// past what viewers open comfortably.
struct PagedOutput: ParsableArguments {
    @Option(help: ArgumentHelp("Split the selection into files of N tiles each: OUT-1.png, OUT-2.png, ... beside OUT.png (each file listed as written).", valueName: "N"))
    var pageSize: Int?

    @Option(help: ArgumentHelp("Largest SVG to write, in MB (estimated before drawing; a larger figure draws fewer tiles and says which).", valueName: "MB"))
    var maxSvgMb: Double = Double(FigureLimits.maxSVGBytes) / 1e6

    func validate() throws {
        if let pageSize, pageSize < 1 { throw ValidationError("--page-size must be at least 1") }
        guard maxSvgMb.isFinite, maxSvgMb >= 0.1, maxSvgMb <= 10_000 else { throw ValidationError("--max-svg-mb must be between 0.1 and 10000") }
    }

    /// The SVG byte budget for `output`, nil when it is not an SVG.
    func svgBudget(for output: FigureOutputOptions) -> Int? {
        (try? OutputFormat(path: output.output)) == .svg ? Int(maxSvgMb * 1e6) : nil
    }

    /// The selection in pages of `pageSize` (one page without it).
    func pages(_ indices: [Int]) -> [[Int]] {
        guard let pageSize, indices.count > pageSize else { return [indices] }
        return stride(from: 0, to: indices.count, by: pageSize).map { Array(indices[$0..<min($0 + pageSize, indices.count)]) }
    }

    /// `dir/maps.png` as page `page`: `dir/maps-3.png`.
    static func path(_ output: String, page: Int) -> String {
        let url = URL(fileURLWithPath: output)
        let ext = url.pathExtension, stem = url.deletingPathExtension().lastPathComponent
        let name = "\(stem)-\(page)\(ext.isEmpty ? "" : ".\(ext)")"
        let dir = (output as NSString).deletingLastPathComponent
        return dir.isEmpty ? name : (dir as NSString).appendingPathComponent(name)
    }

    /// The caption line of page `page` (1-based) of `count`, naming what it holds.
    static func note(page: Int, of count: Int, what: (en: String, zh: String), indices: [Int], language: Language) -> String {
        let list = IndexSelection.describe(indices)
        return language("Page \(page) of \(count): \(what.en) \(list).", "第 \(page)/\(count) 页：\(what.zh) \(list)。")
    }

    /// Draws every page: `draw(indices, note)` builds page's scene and its warnings; each
    /// is written to its numbered file (or `output` itself when there is one page).
    func write(_ indices: [Int], to output: FigureOutputOptions, what: (en: String, zh: String), language: Language,
               draw: ([Int], String?) throws -> (Scene, [String])) throws {
        let pages = self.pages(indices)
        for (k, page) in pages.enumerated() {
            let note = pages.count > 1 ? Self.note(page: k + 1, of: pages.count, what: what, indices: page, language: language) : nil
            var target = output
            if pages.count > 1 { target.output = Self.path(output.output, page: k + 1) }
            let (scene, warnings) = try draw(page, note)
            try target.write(scene, warnings: warnings)
        }
    }
}
