import ArgumentParser
import ConvVizRender
import Foundation

/// Where a drawing command writes its figure (`-o/--output`), the format chosen by the
/// extension. Checked while parsing, so a misspelt extension costs no work.
struct FigureOutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Output file: .png, .svg or .pdf (the extension chooses the format).", valueName: "file"))
    var output: String

    func validate() throws {
        do { _ = try OutputFormat(path: output) } catch { throw ValidationError("\(error)") }
    }

    /// Warnings on stderr, the figure written atomically, one line on stdout.
    func write(_ scene: Scene, warnings: [String] = []) throws {
        for w in warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        try Canvas.write(scene, to: output)
        print("wrote \(output) (\(Int(scene.width))x\(Int(scene.height)))")
    }
}
