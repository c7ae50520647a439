import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz pooling -o pool.svg`: a pooling example with its windows coloured;
/// `--shift`: the same input moved one pixel and what max pooling keeps.
struct PoolingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pooling", abstract: "Draw max or average pooling on a small grid of values.",
        discussion: """
        --shift draws the lecture's shift figure: the input and the same content moved one \
        pixel to the right, both pooled, with the pooled values that did not change marked. \
        Without --input it uses an 8x9 strip of pixels of the sample photo camera.png.
        """)

    @Option(help: "Pooling kind.") var kind: PoolingDiagram.Kind = .max
    @Option(help: "Window size, 1 to 8.") var kernel: Int = 2
    @Option(help: "Stride, 1 to 8.") var stride: Int = 2
    @Option(help: "Values [H, W] (.npy, at most 16x16; leading dimensions of size 1 are dropped); default: the lecture's 4x4 example.") var input: String?
    @Flag(help: "Draw the input shifted one pixel right and which pooled values stay the same (with --input: columns 1... against columns 0...).")
    var shift = false
    @Option(help: "Seed choosing the photo patch for --shift without --input.") var seed: UInt64 = 0
    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<TitleAndCaption>

    func validate() throws {
        guard (1...8).contains(kernel), (1...8).contains(stride) else { throw ValidationError("--kernel and --stride must be 1 to 8") }
    }

    func run() throws {
        // Without --input, --shift cuts its values from a photograph, which the caption names.
        let strip = shift && input == nil ? try PoolingShift.photoStrip(seed: seed) : nil
        var values = strip?.values ?? PoolingDiagram.lectureValues
        if let input { values = try Self.readValues(input) }
        // With --shift the two inputs are one column narrower than the values given.
        let width = values.shape[1] - (shift ? 1 : 0)
        guard values.shape[0] >= kernel, width >= kernel else {
            throw ValidationError("the \(kernel)x\(kernel) window does not fit \(shift ? "the shifted \(values.shape[0])x\(width) inputs of " : "")\(values.shape)")
        }
        if shift {
            var figure = PoolingShift(wide: values)
            figure.kind = kind; figure.kernel = kernel; figure.stride = stride; figure.text = text.figureText
            figure.source = strip?.source(text.lang)
            try output.write(figure.scene())
        } else {
            var figure = PoolingDiagram(values: values)
            figure.kind = kind; figure.kernel = kernel; figure.stride = stride; figure.text = text.figureText
            try output.write(figure.scene())
        }
    }

    /// `[H, W]` values from a .npy file of any rank: the shape is checked before anything
    /// is reshaped, so every rank gets one line naming the file and what was found.
    static func readValues(_ path: String) throws -> Tensor {
        let t = try NPY.read(contentsOf: URL(fileURLWithPath: path))
        let expected = "expected [H, W] values with H and W from 1 to 16 (leading dimensions of size 1 allowed)"
        guard t.rank >= 2 else { throw ReadError(path, .badShape, "\(expected); got a rank-\(t.rank) array of shape \(t.shape)") }
        let leading = t.shape.dropLast(2), plane = Array(t.shape.suffix(2))
        guard leading.allSatisfy({ $0 == 1 }) else { throw ReadError(path, .badShape, "\(expected); got \(t.shape): more than one [H, W] plane") }
        guard plane.allSatisfy({ (1...16).contains($0) }) else { throw ReadError(path, .badShape, "\(expected); got \(t.shape)") }
        return Tensor(shape: plane, data: t.data)
    }
}
