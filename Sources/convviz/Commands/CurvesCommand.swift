import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz curves RUN_DIR... -o curves.svg`: loss and accuracy of several runs on one chart.
struct CurvesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "curves", abstract: "Draw training loss and test accuracy of one or more runs.")

    @Argument(help: "Run directories (each with metrics.jsonl); each run is named by its directory.") var runs: [String]
    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<TitleAndCaption>

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("give at least one run directory") }
    }

    func run() throws {
        var figure = TrainingCurves(runs: try runs.map { .init(name: URL(fileURLWithPath: $0).lastPathComponent, metrics: try RunDirectory.metrics(in: URL(fileURLWithPath: $0))) })
        figure.text = text.figureText
        try output.write(figure.scene())
    }
}
