import ArgumentParser
import ConvVizCore
import ConvVizRender
import ConvVizLecture
import Foundation

/// `convviz lecture --out DIR [--lang zh]`: every figure of the course, in order, as PNG,
/// SVG and PDF, with index.html, handout.pdf and manifest.json; or one figure with
/// `--figure ID -o FILE`.
struct LectureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lecture",
        abstract: "Write the lecture atlas: every figure of the course on convolutional networks, in English or Chinese.",
        discussion: """
        Figures, in the course's order: \(LectureAtlas.ids.joined(separator: ", ")).
        Every number in a figure is computed: shapes by the shape arithmetic, values from real tensors, curves and accuracies from real training runs (conv1 by back-propagation on the sample photographs; BatchNorm statistics and batch sizes on Fashion-MNIST). The whole atlas takes about 75 s on two cores (release build); one figure with --figure takes seconds unless it trains.
        Examples:
          convviz lecture --out Outputs/lecture
          convviz lecture --out Outputs/lecture-zh --lang zh
          convviz lecture --figure stride -o stride.svg --lang zh --title "步幅"
        """)

    @Option(help: "Output directory for the whole atlas (figures, index.html, handout.pdf, manifest.json).") var out: String?
    @Option(help: ArgumentHelp("Draw only this figure (one of the ids above) to -o FILE.", valueName: "id")) var figure: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("With --figure: the output file (.png, .svg or .pdf).", valueName: "file")) var output: String?
    @Option(help: ArgumentHelp("With --figure: title replacing the figure's own.")) var title: String?
    @Option(help: ArgumentHelp("With --figure: caption replacing the figure's own.")) var caption: String?
    @Option(help: "Language of every title, label and caption: en or zh.") var lang: Language = .en
    @Option(help: "Random seed of the training runs: the same seed gives the same bytes.") var seed: UInt64 = 0
    @OptionGroup var png: PNGScaleOptions
    var scale: Double { png.scale }
    @Option(help: ArgumentHelp("Directory of the Fashion-MNIST IDX files.", valueName: "dir")) var fashionMnist: String = FashionMNIST.defaultDirectory.path
    @OptionGroup var threads: ThreadOptions
    @Flag(help: "With --out: also write the animations of the conv-layer, stride and receptive-field figures (DIR/animations/ID.gif and .svg).") var animations = false
    @Flag(help: ArgumentHelp("A few training steps instead of the lecture's budget (same code paths; for tests).", visibility: .hidden)) var smoke = false

    func validate() throws {
        switch (out, figure) {
        case (nil, nil): throw ValidationError("give --out DIR for the atlas, or --figure ID -o FILE for one figure")
        case (.some, .some): throw ValidationError("--out writes the whole atlas; --figure writes one figure to -o FILE: choose one")
        case (.some, nil):
            if output != nil || title != nil || caption != nil { throw ValidationError("-o, --title and --caption go with --figure (one figure)") }
        case let (nil, .some(id)):
            guard LectureAtlas.ids.contains(id) else { throw ValidationError("--figure '\(id)': not a figure of the atlas; the ids are \(LectureAtlas.ids.joined(separator: ", "))") }
            guard let output else { throw ValidationError("--figure needs -o FILE") }
            do { _ = try OutputFormat(path: output) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() throws {
        let progress = ProgressDisplay()
        let started = Date()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("convviz-lecture-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(at: work) }
        var context = LectureContext(language: lang, seed: seed, fashionMNIST: URL(fileURLWithPath: fashionMnist), workDirectory: work,
                                     progress: { progress.note($0) })
        if smoke { context.budget = .smoke }
        if let figure {
            context.only = [figure]
            guard let drawn = try LectureAtlas(context: context).figures().first else { return }
            try FigureOutputOptions.write(drawn.scene.replacingFrameText(title: title, caption: caption), to: output!, scale: scale)
            return
        }
        // The output folder is made before the training, so a bad --out costs nothing.
        let outURL = URL(fileURLWithPath: out!)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: outURL.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw WriteError(file: out!, message: "a file of that name exists; the atlas (--out) needs a folder")
        }
        do { try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true) } catch {
            throw WriteError(file: out!, message: "cannot create the atlas folder (--out)")
        }
        guard FileManager.default.isWritableFile(atPath: outURL.path) else { throw WriteError(file: out!, message: "the atlas folder (--out) is not writable") }
        var report = try LectureAtlas(context: context).report()
        report.formats = [.png, .svg, .pdf]
        report.pngScale = scale
        // The animations first, so that the page and the manifest show the files written.
        let animated = animations ? try LectureAnimations.write(to: outURL, language: lang) : []
        for i in report.figures.indices {
            // Each figure's own files, the GIF first as written.
            report.figures[i].animations = animated.filter { ($0 as NSString).lastPathComponent.hasPrefix(report.figures[i].id + ".") }
        }
        let written = animated + (try report.write(to: outURL))
        let (files, figures, seconds) = (written.count, report.figures.count, String(format: "%.0f", Date().timeIntervalSince(started)))
        print(lang("wrote \(files) files to \(outURL.path): \(figures) figures as PNG, SVG and PDF, index.html, handout.pdf, manifest.json (\(seconds) s)",
                   "已写入 \(files) 个文件到 \(outURL.path)：\(figures) 幅插图（PNG、SVG 和 PDF）、index.html、handout.pdf、manifest.json（\(seconds) 秒）"))
    }
}
