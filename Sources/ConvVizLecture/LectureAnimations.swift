import ConvVizCore
import ConvVizRender
import Foundation

/// The atlas figures that have an animation (`lecture --animations`), keyed by the
/// figure's id: the convolution layer's window sliding (conv_arithmetic's padding 1,
/// stride 2 case, with values and dot products), the stride figure's strided layer, and
/// the receptive field growing one layer per frame (the same three 3x3 layers).
public enum LectureAnimations {
    public static let ids = ["conv-layer", "stride", "receptive-field"]

    public static func animations(language l: Language) throws -> [(id: String, animation: any Animation)] {
        var conv = ConvolutionAnimation(try ConvolutionArithmetic(input: Pair(5), kernel: 3, stride: 2, padding: 1))
        conv.values = ConvolutionAnimation.integerValues(for: conv.arithmetic, seed: 0)
        conv.text = FigureText(language: l)
        let strided = try ReceptiveFieldGrid.stack(kernel: 3, strides: [1, 2, 1], name: l("stride 1, 2, 1", "步幅 1、2、1"))
        var stride = try ReceptiveFieldAnimation(title: strided.name, table: try ShapeTable(strided))
        stride.text = FigureText(language: l)
        let three = try ReceptiveFieldGrid.stack(kernel: 3, strides: [1, 1, 1], name: l("three 3×3 convolutions", "三个 3×3 卷积"))
        var field = try ReceptiveFieldAnimation(title: three.name, table: try ShapeTable(three))
        field.text = FigureText(language: l)
        return [("conv-layer", conv), ("stride", stride), ("receptive-field", field)]
    }

    /// Writes `DIR/animations/ID.gif` and `.svg` for each; returns the files written.
    public static func write(to directory: URL, language: Language, fps: Double = 2) throws -> [String] {
        try animations(language: language).flatMap { id, animation in
            try AnimationWriter.writeBesideReport(animation, id: id, in: directory, fps: fps)
        }
    }
}
