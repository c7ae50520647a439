import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender

/// What Cairo itself drew in an SVG: its paths (points, fill, stroke) and the images it
/// embedded (position, scale, decoded pixels), read from the part of the document before
/// ConvViz's structure layer. Tests check pictures here, not only the structure layer
/// ConvViz writes from the figure's own description.
struct CairoDrawing {
    struct Shape {
        var points: [Point]
        var fill: Color?
        var stroke: Color?
        /// The id of the pattern that fills the shape (an embedded image).
        var pattern: String?
    }
    struct Image {
        /// Where the image's top-left pixel lands and how large each pixel is drawn.
        var origin: Point
        var scale: Double
        /// `[3, H, W]` in [0, 1], decoded from the embedded PNG.
        var rgb: Tensor
    }

    private(set) var shapes: [Shape] = []
    private(set) var images: [Image] = []

    init(_ svg: SVGDocument) throws {
        var patternTransform: [String: [Double]] = [:], patternImage: [String: String] = [:], imageData: [String: Data] = [:]
        var currentPattern: String?
        for e in svg.elements {
            if e.name == "g", e.attributes["id"] == "convviz-structure" { break }
            switch e.name {
            case "image":
                if let id = e.attributes["id"], let href = e.attributes["xlink:href"] ?? e.attributes["href"],
                   let comma = href.firstIndex(of: ",") {
                    imageData[id] = Data(base64Encoded: String(href[href.index(after: comma)...]))
                }
            case "pattern":
                currentPattern = e.attributes["id"]
                if let id = currentPattern { patternTransform[id] = Self.numbers(e.attributes["patternTransform"] ?? "") }
            case "use":
                if let p = currentPattern, let href = e.attributes["xlink:href"] ?? e.attributes["href"] {
                    patternImage[p] = String(href.dropFirst())
                }
            case "path":
                currentPattern = nil
                guard let d = e.attributes["d"] else { continue }
                let style = Self.style(e.attributes["style"] ?? "")
                var shape = Shape(points: Self.points(d), fill: style["fill"].flatMap(Self.color), stroke: style["stroke"].flatMap(Self.color))
                if let fill = style["fill"], fill.hasPrefix("url(#") { shape.pattern = String(fill.dropFirst(5).dropLast()) }
                shapes.append(shape)
            default:
                if e.name != "g" && e.name != "symbol" { currentPattern = nil }
            }
        }
        for shape in shapes {
            guard let p = shape.pattern, let m = patternTransform[p], m.count == 6,
                  let image = patternImage[p], let png = imageData[image] else { continue }
            images.append(Image(origin: Point(m[4], m[5]), scale: m[0], rgb: try PNGDecoder.decode(png, file: image)))
        }
    }

    /// The shapes whose points are `points` (within 0.01), in drawing order.
    func shapes(at points: [Point]) -> [Shape] {
        shapes.filter { s in
            s.points.count == points.count && zip(s.points, points).allSatisfy { abs($0.x - $1.x) <= 0.01 && abs($0.y - $1.y) <= 0.01 }
        }
    }

    /// Cairo's path data as points: the vertices after `M` and `L`, without the `M` that
    /// follows a `Z` (Cairo repeats the start point there).
    static func points(_ d: String) -> [Point] {
        let tokens = d.split(separator: " ")
        var points: [Point] = [], i = 0, closed = false
        while i < tokens.count {
            switch tokens[i] {
            case "M", "L":
                if !closed, i + 2 < tokens.count, let x = Double(tokens[i + 1]), let y = Double(tokens[i + 2]) { points.append(Point(x, y)) }
                i += 3
            case "Z": closed = true; i += 1
            default: i += 1
            }
        }
        return points
    }

    static func style(_ s: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in s.split(separator: ";") {
            let kv = part.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2 { out[kv[0]] = kv[1] }
        }
        return out
    }

    /// `rgb(27%,51%,85%)` as a colour; nil for `none` and patterns.
    static func color(_ s: String) -> Color? {
        guard s.hasPrefix("rgb(") else { return nil }
        let v = s.dropFirst(4).dropLast().split(separator: ",").compactMap { Double($0.replacingOccurrences(of: "%", with: "")) }
        return v.count == 3 ? Color(v[0] / 100, v[1] / 100, v[2] / 100) : nil
    }

    static func numbers(_ s: String) -> [Double] {
        s.split(whereSeparator: { !"0123456789.-e".contains($0) }).compactMap { Double($0) }
    }
}

extension Color {
    /// Equal as Cairo writes colours: whole percents.
    func isClose(to other: Color) -> Bool {
        abs(r - other.r) <= 0.006 && abs(g - other.g) <= 0.006 && abs(b - other.b) <= 0.006
    }
}
