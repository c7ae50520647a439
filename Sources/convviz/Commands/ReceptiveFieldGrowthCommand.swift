import ArgumentParser
import ConvVizCore
import ConvVizRender

/// `convviz rf-growth -o growth.svg`: the lecture's receptive-field growth picture.
struct ReceptiveFieldGrowthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rf-growth",
        abstract: "Draw how a unit's receptive field grows layer by layer.",
        discussion: """
        --view grid (the default) draws every layer as a square of cells, as the course does, with the centre unit's dependencies shaded at each level; --view strip draws one row of cells per layer (along the width). Networks up to 40x40 pixels and 7 windowed layers fit the square grid, up to 64 pixels and 12 layers the strip; a single larger network gets one bar per stage of its main path.
        Examples:
          convviz rf-growth -o growth.svg
          convviz rf-growth --model Examples/three-3x3.json --lang zh -o growth-zh.png
        """)

    enum View: String, CaseIterable, ExpressibleByArgument { case grid, strip }

    @Option(name: [.customLong("model"), .customLong("arch")],
            help: "Networks to draw, one panel each: ARCH.json, MODEL.onnx or a run (default: three 3x3 convolutions, and with pooling).")
    var models: [String] = []
    @Option(help: "grid: a square of cells per layer; strip: one row of cells per layer.") var view: View = .grid

    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<TitleAndCaption>

    func run() throws {
        let l = text.lang
        let panels: [ReceptiveFieldGrowth.Panel]
        if models.isEmpty {
            panels = view == .grid ? try ReceptiveFieldGrid.lectureExamples(language: l).panels : try ReceptiveFieldGrowth.lectureExamples().panels
        } else {
            panels = try models.map { path in
                let a = try ModelSource.architecture(of: path)
                return .init(title: a.name, table: try ShapeTable(a))
            }
        }
        func fits(_ t: ShapeTable) -> Bool { view == .grid ? ReceptiveFieldGrid.fits(t) : ReceptiveFieldGrowth.fitsGrid(t) }
        // Cells per input pixel: a large network gets one bar per stage.
        if panels.count == 1, !fits(panels[0].table) {
            var stages = ReceptiveFieldStages(title: l("Receptive field of \(panels[0].title), stage by stage", "\(panels[0].title) 的感受野（逐阶段）"), table: panels[0].table)
            stages.text = text.figureText
            return try output.write(stages.scene())
        }
        if let large = panels.first(where: { !fits($0.table) }) {
            throw ValidationError("'\(large.title)' is too large for the \(view) of cells (\(view == .grid ? "more than 40x40 pixels or 7 layers" : "more than 64 pixels or 12 layers")); draw it alone for the stage-by-stage view")
        }
        switch view {
        case .grid:
            var figure = ReceptiveFieldGrid(panels: panels)
            figure.text = text.figureText
            try output.write(figure.scene())
        case .strip:
            var figure = ReceptiveFieldGrowth(panels: panels)
            figure.text = text.figureText
            try output.write(figure.scene())
        }
    }
}
