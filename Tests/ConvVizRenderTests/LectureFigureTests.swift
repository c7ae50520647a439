import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender
@testable import ConvVizLecture

final class LectureFigureTests: XCTestCase {
    /// The shaded (n, c) columns of each cube, read back from the SVG.
    func shadedCells(_ figure: NormalizationCubes) throws -> [String: Set<SampleChannel>] {
        let svg = try SVGDocument(try Canvas.render(figure.scene(), format: .svg))
        let shade = SVGPostProcessing.hex(NormalizationCubes.shade)
        var result: [String: Set<SampleChannel>] = [:]
        var current: (kind: String, cell: SampleChannel)?
        for e in svg.elements {
            if e.name == "g", let name = e.attributes["data-name"] {
                let parts = name.split(separator: "/")
                if parts.count == 2, let n = Int(parts[1].split(separator: "-")[0].dropFirst()), let c = Int(parts[1].split(separator: "-")[1].dropFirst()) {
                    current = (String(parts[0]), SampleChannel(n, c))
                    result[String(parts[0]), default: []] = result[String(parts[0])] ?? []
                } else { current = nil }
            } else if e.name == "polygon", let cur = current, e.attributes["data-fill"] == shade {
                result[cur.kind, default: []].insert(cur.cell)
            }
        }
        return result
    }

    func testShadedCellsAreExactlyEachDefinitionsSet() throws {
        for (n, c, g) in [(6, 6, 2), (4, 8, 4), (3, 4, 1), (2, 6, 6), (5, 3, 3)] {
            var figure = NormalizationCubes()
            figure.samples = n; figure.channels = c; figure.groups = g
            figure.anchor = SampleChannel(n - 1, c - 1)
            let shaded = try shadedCells(figure)
            let all = (0..<n).flatMap { s in (0..<c).map { SampleChannel(s, $0) } }
            XCTAssertEqual(shaded["batch"], Set(all.filter { $0.channel == c - 1 }), "BN N=\(n) C=\(c)")
            XCTAssertEqual(shaded["layer"], Set(all.filter { $0.sample == n - 1 }), "LN N=\(n) C=\(c)")
            XCTAssertEqual(shaded["instance"], [SampleChannel(n - 1, c - 1)], "IN")
            let size = c / g
            XCTAssertEqual(shaded["group"], Set(all.filter { $0.sample == n - 1 && $0.channel / size == (c - 1) / size }), "GN G=\(g)")
            if g == 1 { XCTAssertEqual(shaded["group"], shaded["layer"], "G = 1 is LayerNorm") }
            if g == c { XCTAssertEqual(shaded["group"], shaded["instance"], "G = C is InstanceNorm") }
        }
    }

    func testDataModeAnnotatesRealStatistics() throws {
        var x = Tensor(shape: [2, 4, 3, 3])
        for i in 0..<x.count { x.data[i] = Float(i % 7) }
        var figure = NormalizationCubes()
        figure.tensor = x; figure.samples = 2; figure.channels = 4; figure.groups = 2
        let s = NormalizationKind.batch.statistics(x, containing: SampleChannel(0, 0), groups: 2)
        XCTAssertEqual(s.count, 18)
        let values = [0, 1].flatMap { n in (0..<9).map { Double(x.data[(n * 4) * 9 + $0]) } }
        // The layers' routine: deviations are summed in Float, so Float accuracy.
        XCTAssertEqual(s.mean, values.reduce(0, +) / 18, accuracy: 1e-6)
        XCTAssert(figure.scene().texts.contains(String(format: "mean %.4g, var %.4g", s.mean, s.variance)))
    }

    func testLectureVolumeExample() throws {
        let arch = Architecture(name: "v", input: [3, 32, 32], layers: [
            LayerSpec(.conv, out: 6, kernel: Pair(5)), LayerSpec(.relu), LayerSpec(.conv, out: 10, kernel: Pair(3)),
            LayerSpec(.relu), LayerSpec(.conv, out: 12, kernel: Pair(3)),
        ])
        var volumes = ConvolutionVolumes(table: try ShapeTable(arch))
        volumes.batch = .symbolic
        let texts = volumes.scene().texts
        for label in ["N×3×32×32", "W1 6×3×5×5", "b1 6", "N×6×28×28", "W2 10×6×3×3", "N×10×26×26", "W3 12×10×3×3", "N×12×24×24"] {
            XCTAssert(texts.contains(label), "missing \(label) in \(texts)")
        }
    }

    func testLecturePoolingExample() throws {
        let figure = PoolingDiagram(values: PoolingDiagram.lectureValues)
        XCTAssertEqual(figure.output.data, [6, 8, 3, 4])
        var avg = figure; avg.kind = .avg
        XCTAssertEqual(avg.output.data, [3.25, 5.25, 2, 2])
        let texts = figure.scene().texts
        XCTAssert(texts.contains("output 2x2"))
        let svg = try SVGDocument(try Canvas.render(figure.scene(), format: .svg))
        XCTAssertEqual(svg.elements.filter { $0.attributes["data-name"]?.hasPrefix("window-") == true }.count, 4)
    }

    func testCurvesLegendNamesEachRun() throws {
        let run = TrainingCurves.Run(name: "a", loss: [(10, 2), (20, 1)], accuracy: [(1, 0.5), (2, 0.75)])
        let scene = TrainingCurves(runs: [run, run]).scene()
        XCTAssertEqual(scene.texts.filter { $0 == "a" }.count, 2, "legend entries")
    }
}
