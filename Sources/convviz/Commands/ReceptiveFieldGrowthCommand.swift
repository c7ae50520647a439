import ArgumentParser
import ConvVizCore
import ConvVizRender

/// `convviz rf-growth -o growth.svg`: the lecture's receptive-field growth picture.
struct ReceptiveFieldGrowthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rf-growth",
        abstract: "Draw how a unit's receptive field grows layer by layer (along the width).",
        discussion: "Small networks get the cell grid, one panel each; a single large network (wider than 64 pixels or 12 layers) gets one bar per stage of its main path.")

    @Option(name: [.customLong("model"), .customLong("arch")],
            help: "Networks to draw, one panel each: ARCH.json, MODEL.onnx or a run (default: three 3x3 convolutions, and with pooling).")
    var models: [String] = []

    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<FixedText>

    func run() throws {
        if models.isEmpty { return try output.write(try ReceptiveFieldGrowth.lectureExamples().scene()) }
        let panels = try models.map { path -> ReceptiveFieldGrowth.Panel in
            let a = try ModelSource.architecture(of: path)
            return .init(title: a.name, table: try ShapeTable(a))
        }
        // The cell grid draws a cell per input pixel: large networks get one bar per stage.
        if panels.count == 1, !ReceptiveFieldGrowth.fitsGrid(panels[0].table) {
            return try output.write(ReceptiveFieldStages(title: "Receptive field of \(panels[0].title), stage by stage", table: panels[0].table).scene())
        }
        if let large = panels.first(where: { !ReceptiveFieldGrowth.fitsGrid($0.table) }) {
            throw ValidationError("'\(large.title)' is too large for the cell grid (more than 64 pixels or 12 layers wide); draw it alone for the stage-by-stage view")
        }
        try output.write(ReceptiveFieldGrowth(panels: panels).scene())
    }
}
