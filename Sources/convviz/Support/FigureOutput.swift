import ConvVizRender
import Foundation

/// Writes a figure the way every drawing command does: warnings on stderr, the file
/// atomically, one line on stdout.
enum FigureOutput {
    static func write(_ scene: Scene, to path: String, warnings: [String] = []) throws {
        for w in warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        try Canvas.write(scene, to: path)
        print("wrote \(path) (\(Int(scene.width))x\(Int(scene.height)))")
    }
}
