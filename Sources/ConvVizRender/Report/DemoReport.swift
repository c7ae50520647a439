import ConvVizCore
import ConvVizRender
import Foundation

/// Every figure ConvViz draws, from one trained run of the demo's recipe, gathered into
/// a report (`convviz demo`).
public struct DemoReport {
    public let recipe: FilterRecipe
    public let trained: FilterRecipe.Trained
    /// conv1 after training.
    public let taxonomy: FilterTaxonomy
    /// A random initialization of conv1, for contrast.
    public let randomTaxonomy: FilterTaxonomy
    /// The run directory `trained` was written to (its metrics.jsonl gives the curves).
    public let directory: URL

    public init(recipe: FilterRecipe, trained: FilterRecipe.Trained, directory: URL) {
        self.recipe = recipe
        self.trained = trained
        self.taxonomy = FilterTaxonomy(weights: trained.conv1)
        self.randomTaxonomy = recipe.randomInitializationTaxonomy()
        self.directory = directory
    }

    public func build() throws -> Report {
        let conv1 = trained.conv1
        var report = Report(title: "ConvViz demo: what a first layer learns from twelve photographs",
                            introduction: "From the free sample photographs shipped with ConvViz, a first layer learned oriented edges, colour-opponent filters and centre-surround dots by competitive learning on whitened patches; a small network on top of it then learned which way up a patch is (rotation prediction). The figures show those filters, how they formed, what they respond to, and the lecture's figures on receptive fields, normalization, convolution and pooling.")
        let pct = { (t: FilterTaxonomy, k: FilterTaxonomy.Kind) in String(format: "%.0f%%", 100 * t.fraction(k)) }
        report.facts = [
            ("seed", String(recipe.seed)),
            ("training", "conv1: \(recipe.competitive.iterations) iterations of competitive learning on \(recipe.competitive.patches) patches (reconstruction error \(String(format: "%.4f", trained.competitiveLoss.first?.loss ?? 0)) to \(String(format: "%.4f", trained.competitiveLoss.last?.loss ?? 0))); then \(recipe.steps) SGD steps of batch \(recipe.batch) on rotation prediction, held-out rotation accuracy \(String(format: "%.3f", trained.summary.testAccuracy ?? 0)) (chance 0.25)"),
            ("conv1 taxonomy", "\(pct(taxonomy, .edge)) oriented edges, \(pct(taxonomy, .colorOpponent)) colour-opponent, \(pct(taxonomy, .blob)) centre-surround/blob, \(pct(taxonomy, .unstructured)) unstructured"),
            ("random initialization", "\(pct(randomTaxonomy, .edge)) edges, \(pct(randomTaxonomy, .colorOpponent)) colour-opponent"),
        ]
        let recipeSettings = ["conv1": "\(recipe.filters) x 3x\(recipe.kernel)x\(recipe.kernel), spherical k-means on ZCA-whitened patches", "whitening floor": "\(recipe.competitive.whiteningFloor)",
                              "patches": "\(recipe.competitive.patches)", "photos resized to short side": "\(recipe.competitive.photoShortSide)", "iterations": "\(recipe.competitive.iterations)", "seed": "\(recipe.seed)"]

        // 1. The mosaic, sorted by class, with badges.
        var mosaic = FilterMosaic(weights: conv1)
        mosaic.title = "conv1 filters, grouped by class"
        mosaic.groupByTaxonomy(taxonomy)
        mosaic.columns = 12
        mosaic.scale = 6
        let order = mosaic.order!
        report.figures.append(.init(id: "filters", title: "What conv1 learned",
                                    caption: "Each filter scaled symmetrically around zero (mid-gray = 0), sorted: oriented edges (blue badge, tick along the edge), colour-opponent (orange), centre-surround/blob (green), unstructured (gray). \(report.facts[2].1).",
                                    settings: recipeSettings.merging(["normalization": "filter-symmetric", "scale": "x6"]) { a, _ in a }, scene: mosaic.scene()))

        // 2. Filmstrip.
        var film = FilterFilmstrip(snapshots: trained.snapshots, order: Array(order.prefix(24)))
        film.stepLabel = "iteration"
        report.figures.append(.init(id: "filmstrip", title: "The filters forming", caption: "The first 24 filters (in the order above) after competitive-learning iterations \(trained.snapshots.map { String($0.step) }.joined(separator: ", ")), on one colour scale.",
                                    settings: ["iterations": trained.snapshots.map { String($0.step) }.joined(separator: ",")], scene: film.scene()))

        // 3. Activation maps of a sample photo.
        let photo = try SamplePhotos.load("chelsea")
        let display = ImageResize.bilinear(photo, height: 96, width: 144)
        var input = display.reshaped([1, 3, 96, 144])
        trained.standardization.apply(to: &input)
        let relu1 = trained.model.index(ofLayer: "relu1")!
        let maps = trained.model.forward(input, mode: .evaluation, through: relu1)
        let shown = min(12, maps.shape[1]), plane = maps.shape[2] * maps.shape[3]
        var activation = ActivationMaps(maps: Tensor(shape: [shown, maps.shape[2], maps.shape[3]], data: Array(maps.data.prefix(shown * plane))), layer: "relu1")
        activation.columns = 4
        activation.scale = 3
        activation.input = RasterImage(image: display, scale: 1)
        activation.title = "conv1 + ReLU responses to the cat photo (first 12 maps)"
        report.figures.append(.init(id: "activations", title: "Activation maps", caption: "Maps 0-11 of relu1 for chelsea.png resized to 144x96, one colour scale (viridis).",
                                    settings: ["image": "chelsea.png", "layer": "relu1", "colormap": "viridis"], scene: activation.scene()))

        // 4. Receptive-field overlay with the effective field.
        let table = try ShapeTable(recipe.architecture)
        let conv3 = recipe.architecture.layers.firstIndex { $0.name == "conv3" }!
        let out = table.rows[conv3].output
        let unit = (y: out[1] / 2, x: out[2] / 2)
        let patch = ImageResize.bilinear(photo, height: recipe.patch * 4, width: recipe.patch * 6)
        let crop = Self.crop(patch, y: 40, x: 70, size: recipe.patch)
        var batch = Tensor(shape: [16, 3, recipe.patch, recipe.patch])
        var rng = SeededGenerator(seed: recipe.seed &+ 5)
        for s in 0..<16 {
            var sample = Self.crop(patch, y: rng.below(patch.shape[1] - recipe.patch), x: rng.below(patch.shape[2] - recipe.patch), size: recipe.patch).reshaped([1, 3, recipe.patch, recipe.patch])
            if s == 0 { sample = crop.reshaped([1, 3, recipe.patch, recipe.patch]) }
            trained.standardization.apply(to: &sample)
            for i in 0..<sample.count { batch.data[s * sample.count + i] = sample.data[i] }
        }
        let erf = EffectiveReceptiveField(model: trained.model, layer: conv3, unit: unit, inputs: batch)
        var overlay = ReceptiveFieldOverlay(image: crop, boxes: ReceptiveFieldOverlay.boxes(table: table, layer: conv3, unit: unit), unitLabel: "conv3 unit (\(unit.y), \(unit.x))")
        overlay.effective = erf
        overlay.scale = 8
        report.figures.append(.init(id: "receptive-field", title: "Receptive field of one unit", caption: "Nested boxes: the field of conv1, pool1, conv2 and conv3 units at the same centre. Right: the trained network's effective field, averaged over 16 patches.",
                                    settings: ["layer": "conv3", "unit": "\(unit.y),\(unit.x)", "inputs": "16", "contour": "10% of peak"], scene: overlay.scene()))

        // 5-9. The lecture figures.
        report.figures.append(.init(id: "receptive-field-growth", title: "Receptive-field growth", caption: "1 + L(K-1) for L stride-1 KxK layers; pooling speeds it up.",
                                    scene: try ReceptiveFieldGrowth.lectureExamples().scene()))
        var cubes = NormalizationCubes()
        cubes.groups = 2
        report.figures.append(.init(id: "normalization", title: "Which values share a mean and variance", caption: "BatchNorm over (N, H, W) per channel; LayerNorm over (C, H, W) per sample; InstanceNorm over (H, W); GroupNorm over (C/G, H, W).",
                                    settings: ["N": "6", "C": "6", "G": "2"], scene: cubes.scene()))
        let lecture = Architecture(name: "lecture", input: [3, 32, 32], layers: [
            LayerSpec(.conv, name: "conv1", out: 6, kernel: Pair(5)), LayerSpec(.relu), LayerSpec(.conv, name: "conv2", out: 10, kernel: Pair(3)),
            LayerSpec(.relu), LayerSpec(.conv, name: "conv3", out: 12, kernel: Pair(3))])
        report.figures.append(.init(id: "volumes", title: "Convolution volumes", caption: "3x32x32 input, six 3x5x5 filters -> 6x28x28, then 10 and 12 3x3 filters.",
                                    settings: ["architecture": "Examples/volume-stack.json"], scene: ConvolutionVolumes(table: try ShapeTable(lecture)).scene()))
        report.figures.append(.init(id: "pooling", title: "Max pooling", caption: "2x2 windows with stride 2 on the lecture's 4x4 example.",
                                    settings: ["kind": "max", "kernel": "2", "stride": "2"], scene: PoolingDiagram(values: PoolingDiagram.lectureValues).scene()))
        var curves = TrainingCurves(runs: [.init(name: "rotation prediction", metrics: try RunDirectory.metrics(in: directory))])
        curves.title = "Training the rotation-prediction network (conv1 frozen)"
        report.figures.append(.init(id: "training-curves", title: "Training curves", caption: "Loss per logged window and held-out rotation accuracy per epoch.",
                                    settings: ["metrics": "metrics.jsonl"], scene: curves.scene()))
        return report
    }

    /// A `size` x `size` crop of a [C, H, W] image at (y, x), edges repeated past the border.
    static func crop(_ image: Tensor, y: Int, x: Int, size: Int) -> Tensor {
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        var out = Tensor(shape: [c, size, size])
        for ch in 0..<c { for i in 0..<size { for j in 0..<size { out[ch, i, j] = image.data[(ch * h + min(y + i, h - 1)) * w + min(x + j, w - 1)] } } }
        return out
    }
}
