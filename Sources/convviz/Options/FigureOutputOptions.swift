import ArgumentParser
import ConvVizRender
import Foundation

/// `--scale`: how many PNG pixels a point of a figure gets, for every command that
/// writes figures.
struct PNGScaleOptions: ParsableArguments {
    // Unconditional: `--scale -1` is a value to refuse by range, not an unknown option.
    @Option(parsing: .unconditional,
            help: ArgumentHelp("PNG pixels per point: 2 for slides and print (about 192 dpi), up to 8. SVG and PDF are vector and ignore it.", valueName: "factor"))
    var scale: Double = 1

    func validate() throws {
        guard scale.isFinite, scale >= 0.25, scale <= 8 else { throw ValidationError("--scale must be between 0.25 and 8 (got \(scale))") }
    }
}

/// Where a drawing command writes its figure (`-o/--output`), the format chosen by the
/// extension, and how many PNG pixels a point of the figure gets (`--scale`). Checked
/// while parsing, so a misspelt extension costs no work.
struct FigureOutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Output file: .png, .svg or .pdf (the extension chooses the format).", valueName: "file"))
    var output: String

    @OptionGroup var png: PNGScaleOptions
    var scale: Double { png.scale }

    func validate() throws {
        do { _ = try OutputFormat(path: output) } catch { throw ValidationError("\(error)") }
    }

    /// The PNG scale for `scene`, lowered (with a warning) where it would take a side
    /// past `FigureLimits.maxSide`.
    static func pngScale(_ requested: Double, for scene: Scene) -> (scale: Double, warning: String?) {
        let largest = max(scene.width, scene.height)
        guard requested > 1, largest * requested > Double(FigureLimits.maxSide) else { return (requested, nil) }
        let fitted = max(1, (Double(FigureLimits.maxSide) / largest * 100).rounded(.down) / 100)
        return (fitted, "--scale \(requested) would make a \(Int(largest * requested))-pixel side; drawn at scale \(fitted) (the limit is \(FigureLimits.maxSide) pixels)")
    }

    /// Warnings on stderr, the figure written atomically, one line on stdout.
    func write(_ scene: Scene, warnings: [String] = []) throws {
        try Self.write(scene, to: output, scale: scale, warnings: warnings)
    }

    /// The same for a command whose output file and scale are options of its own.
    static func write(_ scene: Scene, to output: String, scale: Double, warnings: [String] = []) throws {
        let format = try OutputFormat(path: output)
        let (pngScale, scaleWarning) = format == .png ? pngScale(scale, for: scene) : (1, nil)
        for w in warnings + [scaleWarning].compactMap({ $0 }) { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        try Canvas.write(scene, to: output, pngScale: pngScale)
        let size = format == .png ? "\(Int((scene.width * pngScale).rounded(.up)))x\(Int((scene.height * pngScale).rounded(.up)))" : "\(Int(scene.width))x\(Int(scene.height))"
        print("wrote \(output) (\(size))")
    }
}
