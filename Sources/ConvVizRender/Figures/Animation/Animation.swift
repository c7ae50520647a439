import ConvVizCore
import Foundation

/// A figure that moves: a value that draws each of its frames as a `Scene`, all of one
/// size, for `AnimationWriter` to write as a GIF, an animated SVG or one PDF page per
/// frame. Like a figure, it reads no files and trains nothing.
public protocol Animation {
    var frameCount: Int { get }
    /// Frame `k`, 0-based, `0 ..< frameCount`.
    func frame(_ k: Int) -> Scene
    /// Frame `k` as the GIF and the PNG of one frame draw it (`AnimationRaster`): the same
    /// scene, except that an animation showing many colours of its own (the learning
    /// mosaic's filter pixels) puts them on a palette of a stated size here. Default:
    /// `frame(k)`.
    func rasterFrame(_ k: Int) -> Scene
}

extension Animation {
    public func frames() -> [Scene] { (0..<frameCount).map(frame) }
    public func rasterFrame(_ k: Int) -> Scene { frame(k) }
}

/// Lines of `terms` joined by `separator`, `perLine` terms a line, so that every frame
/// of an animation gets the same number of lines whatever its numbers.
enum TermLines {
    static func lines(_ terms: [String], perLine: Int, separator: String = " + ") -> [String] {
        stride(from: 0, to: terms.count, by: perLine).map { start in
            let end = min(start + perLine, terms.count)
            return (start > 0 ? separator.trimmingCharacters(in: .whitespaces) + " " : "") + terms[start..<end].joined(separator: separator)
        }
    }
}
