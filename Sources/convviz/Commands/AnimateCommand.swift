import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz animate KIND -o out.gif|svg|pdf`: figures that move, one frame per step.
struct AnimateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "animate",
        abstract: "Animate convolution arithmetic, pooling, receptive-field growth or conv1 learning (GIF, animated SVG, PDF pages).",
        discussion: """
        The output's extension chooses the format: .gif (giflib; each frame drawn for a \
        palette of at most 256 colours, which the GIF keeps exactly: the figure's colours \
        exact, antialiased edges in a few blends, each within a stated tolerance of Cairo's, \
        the learning mosaic's filter pixels on 160 colours), .svg (one file animated with \
        SMIL; without SMIL a viewer shows the first frame) or .pdf (one frame per page, for \
        slides). --frame K writes frame K alone: .png is the GIF's frame K pixel for pixel.
        Examples:
          convviz animate convolution --input 5 --kernel 3 --stride 2 --padding 1 -o conv.gif
          convviz animate convolution --input 3 --kernel 3 --stride 2 --transposed --values -o up.svg
          convviz animate pooling --kind avg -o pool.pdf
          convviz animate receptive-field --lang zh -o rf.gif
          convviz animate learning Outputs/demo/learn-filters -o learning.gif
          convviz animate convolution --input 5 --kernel 3 --frame 4 -o frame4.png
        """,
        subcommands: [Convolution.self, Pooling.self, ReceptiveFieldGrowth.self, Learning.self])

    /// `-o`, `--fps`, `--scale` and `--frame`, checked while parsing.
    struct Output: ParsableArguments {
        @Option(name: .shortAndLong, help: ArgumentHelp("Output file: .gif, .svg or .pdf (the extension chooses the format); with --frame, .png, .svg or .pdf.", valueName: "file"))
        var output: String
        @Option(help: "Frames per second (0.1 to 50).") var fps: Double = 2
        @Option(help: ArgumentHelp("Write only frame K, numbered from 1 as the frames are labelled: .png is the GIF's frame K pixel for pixel; .svg or .pdf its vector drawing.", valueName: "K"))
        var frame: Int?
        @OptionGroup var png: PNGScaleOptions

        func validate() throws {
            if let frame {
                guard frame >= 1 else { throw ValidationError("--frame must be 1 or more (frames are numbered from 1, as labelled; got \(frame))") }
                do { _ = try OutputFormat(path: output) } catch { throw ValidationError("--frame writes one frame: \(error)") }
            } else {
                do { _ = try AnimationFormat(path: output) } catch {
                    throw ValidationError("\(error)\(output.lowercased().hasSuffix(".png") ? " (one frame as PNG: add --frame K)" : "")")
                }
            }
            guard fps.isFinite, fps >= 0.1, fps <= 50 else { throw ValidationError("--fps must be between 0.1 and 50 (got \(fps))") }
        }

        /// Warnings on stderr, the animation (or one frame) written atomically, one line on stdout.
        func write(_ animation: some Animation) throws {
            if let frame {
                guard frame <= animation.frameCount else { throw ValidationError("--frame \(frame): the animation has \(animation.frameCount) frames") }
                let format = try OutputFormat(path: output)
                let (scale, scaleWarning) = format == .png ? FigureOutputOptions.pngScale(png.scale, for: animation.frame(0)) : (1, nil)
                if let scaleWarning { FileHandle.standardError.write(Data("warning: \(scaleWarning)\n".utf8)) }
                let size = try AnimationWriter.writeFrame(animation, frame - 1, to: output, pngScale: scale)
                print("wrote \(output) (frame \(frame) of \(animation.frameCount), \(size.width)x\(size.height))")
                return
            }
            let format = try AnimationFormat(path: output)
            let (scale, scaleWarning) = format == .gif ? FigureOutputOptions.pngScale(png.scale, for: animation.frame(0)) : (1, nil)
            let result = try AnimationWriter.write(animation, to: output, fps: fps, pngScale: scale)
            for w in [scaleWarning].compactMap({ $0 }) + result.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
            var colours = ""
            if let palette = result.palette, let t = result.tolerance {
                colours = ", \(palette.global ? "\(palette.colours) colours" : "up to 256 colours a frame"), edge tolerance \(t)/255"
            }
            print("wrote \(output) (\(animation.frameCount) frames, \(result.width)x\(result.height)\(colours))")
        }
    }

    struct Convolution: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The kernel's footprint sliding over the input (conv_arithmetic), one frame per output position.",
            discussion: "Every frame shows the output position and the output-size formula with its numbers; --transposed draws PyTorch's ConvTranspose2d as a direct convolution over the input with zeros inserted. Combinations no convolution accepts are refused with the arithmetic.")

        @Option(help: "Input height (and width, unless --input-width).") var input: Int = 5
        @Option(help: "Input width (default: the height).") var inputWidth: Int?
        @Option(help: "Kernel size K (square).") var kernel: Int = 3
        @Option(help: "Stride S.") var stride: Int = 1
        @Option(help: "Zero padding P on each side.") var padding: Int = 0
        @Option(help: "Dilation D: the kernel's taps D cells apart.") var dilation: Int = 1
        @Flag(help: "A transposed convolution (PyTorch's ConvTranspose2d) with these settings.") var transposed = false
        @Option(help: "Transposed only: extra rows and columns on one side (smaller than the stride or the dilation).") var outputPadding: Int = 0
        @Flag(help: "Fill the cells with small integers and show each frame's dot product.") var values = false
        @Option(help: "Seed of the integers --values shows.") var seed: UInt64 = 0
        @OptionGroup var output: Output
        @OptionGroup var text: FigureTextOptions<TitleAndCaption>

        func run() throws {
            // Refused with the arithmetic on one line (`ConvolutionArithmetic.Invalid`).
            let arithmetic = try ConvolutionArithmetic(input: Pair(input, inputWidth ?? input), kernel: kernel, stride: stride, padding: padding,
                                                       dilation: dilation, transposed: transposed, outputPadding: outputPadding)
            let grid = (arithmetic.gridRange(arithmetic.input.h).count, arithmetic.gridRange(arithmetic.input.w).count)
            guard max(grid.0, grid.1) <= 40 else {
                throw ValidationError("the grid the window slides over is \(grid.0)x\(grid.1) cells (input, padding\(transposed ? " and inserted zeros" : "")); at most 40 per side are drawn")
            }
            var animation = ConvolutionAnimation(arithmetic)
            if values { animation.values = ConvolutionAnimation.integerValues(for: arithmetic, seed: seed) }
            animation.text = text.figureText
            try output.write(animation)
        }
    }

    struct Pooling: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The pooling window moving over a grid of values, the kept value highlighted.")
        @Option(help: "Pooling kind.") var kind: PoolingDiagram.Kind = .max
        @Option(help: "Window size, 1 to 8.") var kernel: Int = 2
        @Option(help: "Stride, 1 to 8.") var stride: Int = 2
        @Option(help: "Values [H, W] (.npy, at most 16x16; leading dimensions of size 1 are dropped); default: the lecture's 4x4 example.") var input: String?
        @OptionGroup var output: Output
        @OptionGroup var text: FigureTextOptions<TitleAndCaption>

        func validate() throws {
            guard (1...8).contains(kernel), (1...8).contains(stride) else { throw ValidationError("--kernel and --stride must be 1 to 8") }
        }

        func run() throws {
            let values = try input.map(PoolingCommand.readValues) ?? PoolingDiagram.lectureValues
            guard values.shape[0] >= kernel, values.shape[1] >= kernel else {
                throw ValidationError("the \(kernel)x\(kernel) window does not fit the \(values.shape[0])x\(values.shape[1]) input: H' = floor((H - K)/S) + 1 = floor((\(values.shape[0]) - \(kernel))/\(stride)) + 1 < 1")
            }
            var animation = PoolingAnimation(values: values)
            animation.kind = kind; animation.kernel = kernel; animation.stride = stride; animation.text = text.figureText
            try output.write(animation)
        }
    }

    struct ReceptiveFieldGrowth: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "receptive-field",
            abstract: "A unit's receptive field growing layer by layer on the 2-D grid (the rf-growth figure, one layer per frame).")
        @Option(name: [.customLong("model"), .customLong("arch")], help: "Network: ARCH.json, MODEL.onnx or a run (default: three 3x3 convolutions).")
        var model: String?
        @Option(help: "Animate up to this layer (by name; default: the last windowed layer).") var layer: String?
        @OptionGroup var output: Output
        @OptionGroup var text: FigureTextOptions<TitleAndCaption>

        func run() throws {
            let architecture = try model.map { try ModelSource.architecture(of: $0) } ?? ReceptiveFieldGrid.stack(kernel: 3, strides: [1, 1, 1], name: text.lang("three 3×3 convolutions", "三个 3×3 卷积"))
            let table = try ShapeTable(architecture)
            var animation = try ReceptiveFieldAnimation(title: architecture.name, table: table, through: layer)
            animation.text = text.figureText
            try output.write(animation)
        }
    }

    struct Learning: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "conv1's mosaic through training, one frame per recorded step (a learn-filters run, or any run with conv1-steps.safetensors).",
            discussion: "`convviz learn-filters --record-every N` records a step every N steps.")
        @Argument(help: ArgumentHelp("Run directory holding conv1-steps.safetensors (tensors step_<n>, [C_out, C_in, K, K]).", valueName: "run")) var directory: String
        @Option(help: "Filters per row of the mosaic.") var columns: Int = 12
        @Option(help: "Pixels per filter pixel.") var pixel: Int = 4
        @OptionGroup var output: Output
        @OptionGroup var text: FigureTextOptions<TitleAndCaption>

        func validate() throws {
            guard (1...64).contains(columns) else { throw ValidationError("--columns must be 1 to 64") }
            guard (1...16).contains(pixel) else { throw ValidationError("--pixel must be 1 to 16") }
        }

        func run() throws {
            let steps = try Self.readSteps(run: directory)
            var animation = LearningAnimation(steps: steps)
            animation.columns = columns; animation.scale = pixel; animation.text = text.figureText
            try output.write(animation)
            let palette = animation.filterPalette
            if [".gif", ".png"].contains(where: { output.output.lowercased().hasSuffix($0) }), palette.maxError > 0 {
                print("filter pixels on \(palette.colours.count) colours (median cut over every step): at most \(palette.maxError)/255 from exact in a channel, \(String(format: "%.1f", palette.meanError))/255 on average")
            }
        }

        /// The `step_<n>` tensors of RUN/conv1-steps.safetensors, by step, checked to be one
        /// `[C_out, C_in, K, K]` shape.
        static func readSteps(run: String) throws -> [(step: Int, weights: Tensor)] {
            let path = URL(fileURLWithPath: run).appendingPathComponent("conv1-steps.safetensors").path
            guard FileManager.default.fileExists(atPath: path) else {
                throw ReadError(path, .notFound, "no recorded steps: \(run) is not a learn-filters run (convviz learn-filters --out RUN [--record-every N] writes one)")
            }
            let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path))
            let names = file.names.compactMap { name in name.hasPrefix("step_") ? Int(name.dropFirst(5)).map { (step: $0, name: name) } : nil }.sorted { $0.step < $1.step }
            guard !names.isEmpty else { throw ReadError(path, .missingTensor, "no step_<n> tensors (found \(file.names.prefix(5).joined(separator: ", ")))") }
            let steps = try names.map { (step: $0.step, weights: try file.tensor($0.name)) }
            let shape = steps[0].weights.shape
            try FilterTaxonomy.check(shape: shape, file: path)
            if let odd = steps.first(where: { $0.weights.shape != shape }) {
                throw ReadError(path, .badShape, "step_\(odd.step) has shape \(odd.weights.shape), step_\(steps[0].step) \(shape): every step must have one shape")
            }
            return steps
        }
    }
}
