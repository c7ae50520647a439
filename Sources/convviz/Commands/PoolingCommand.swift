import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz pooling -o pool.svg`: a pooling example with its windows coloured.
struct PoolingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pooling", abstract: "Draw max or average pooling on a small grid of values.")

    @Option(help: "Pooling kind.") var kind: PoolingDiagram.Kind = .max
    @Option(help: "Window size, 1 to 8.") var kernel: Int = 2
    @Option(help: "Stride, 1 to 8.") var stride: Int = 2
    @Option(help: "Values [H, W] (.npy, at most 16x16); default: the lecture's 4x4 example.") var input: String?
    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<FixedText>

    func validate() throws {
        guard (1...8).contains(kernel), (1...8).contains(stride) else { throw ValidationError("--kernel and --stride must be 1 to 8") }
    }

    func run() throws {
        var values = PoolingDiagram.lectureValues
        if let input {
            let t = try NPY.read(contentsOf: URL(fileURLWithPath: input))
            guard t.rank >= 2, t.shape.dropLast(2).allSatisfy({ $0 == 1 }), t.shape.suffix(2).allSatisfy({ (1...16).contains($0) }) else {
                throw ReadError(input, .badShape, "expected [H, W] values up to 16x16, got \(t.shape)")
            }
            values = t.reshaped(Array(t.shape.suffix(2)))
        }
        guard values.shape[0] >= kernel, values.shape[1] >= kernel else { throw ValidationError("the \(kernel)x\(kernel) window does not fit \(values.shape)") }
        var figure = PoolingDiagram(values: values)
        figure.kind = kind; figure.kernel = kernel; figure.stride = stride
        try output.write(figure.scene())
    }
}
