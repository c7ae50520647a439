import ConvVizCore
import ConvVizRender
import Foundation

/// Every figure ConvViz draws, from one trained run of the demo's recipe, gathered into
/// a report (`convviz demo`).
public struct DemoReport {
    public let recipe: FilterRecipe
    public let trained: FilterRecipe.Trained
    /// conv1 learned by back-propagation (`GradientFilterRecipe`).
    public let taxonomy: FilterTaxonomy
    /// The comparison: k-means on whitened patches of the same photographs.
    public let kmeansTaxonomy: FilterTaxonomy
    /// The rotation network's own conv1 (random initialization, trained end to end).
    public let rotationTaxonomy: FilterTaxonomy
    /// The run directory `trained` was written to (its metrics.jsonl gives the curves).
    public let directory: URL

    public init(recipe: FilterRecipe, trained: FilterRecipe.Trained, directory: URL) {
        self.recipe = recipe
        self.trained = trained
        self.taxonomy = FilterTaxonomy(weights: trained.conv1)
        self.kmeansTaxonomy = FilterTaxonomy(weights: trained.kmeans)
        self.rotationTaxonomy = FilterTaxonomy(weights: trained.rotationConv1)
        self.directory = directory
    }

    static func pct(_ x: Double) -> String { String(format: "%.0f%%", 100 * x) }

    /// "54% oriented edges, 27% colour-opponent, ..." for one set of filters.
    static func classes(_ t: FilterTaxonomy) -> String {
        "\(pct(t.fraction(.edge))) oriented edges, \(pct(t.fraction(.colorOpponent))) colour-opponent, \(pct(t.fraction(.blob))) centre-surround/blob, \(pct(t.fraction(.unstructured))) unstructured"
    }

    static func withoutLocalization(_ s: GradientFilterRecipe.Scores) -> String {
        "without the localization rule \(pct(s.edgesWithoutLocalization)) edges, \(pct(s.colourOpponentWithoutLocalization)) colour-opponent"
    }

    /// How conv1 was learned, in one sentence (no timing: the report is the same bytes for a seed).
    public var conv1Method: String {
        let g = recipe.gradient
        return "from a random initialization, only by back-propagation: a winner-take-all sparse autoencoder (encoder conv1, decoder its transpose) on \(g.trainPatches) ZCA-whitened 11x11 colour patches of \(g.trainingPhotos.count) photographs (\(g.heldOutPhotos.joined(separator: ", ")) held out), \(g.steps) SGD steps of batch \(g.batch)"
    }

    public func build() throws -> Report {
        let learned = trained.learned
        let heldOut = recipe.gradient.heldOutPhotos.joined(separator: ", ")
        let kmeansScores = GradientFilterRecipe.Scores(trained.kmeans)
        var report = Report(title: "ConvViz demo: what a first layer learns from the sample photographs",
                            introduction: "conv1 (48 filters of 3x11x11) starts from a random initialization and is trained only by back-propagation: a sparse autoencoder whose encoder is conv1 learns to reconstruct whitened colour patches of the seven colour sample photographs (one held out), and its filters become oriented edges and colour-opponent filters. Beside them, for comparison, what k-means on whitened patches finds from the same photographs. A separate small network, its own conv1 also from a random initialization, is trained end to end to tell which way up a patch is (rotation prediction); its activations, receptive fields and training curves follow, with the lecture's figures on receptive fields, normalization, convolution and pooling.")
        report.links = [("checkpoint.safetensors", "checkpoint.safetensors")]
        report.facts = [
            ("seed", String(recipe.seed)),
            ("conv1", "learned \(conv1Method)"),
            ("conv1 taxonomy", "\(Self.classes(taxonomy)); \(Self.withoutLocalization(learned.trained))"),
            ("conv1 at step 0 (random initialization)", "\(Self.pct(learned.initialization.edges)) edges, \(Self.pct(learned.initialization.colourOpponent)) colour-opponent; control (random directions through the same whitening): \(Self.pct(learned.control.edges)) edges, \(Self.pct(learned.control.colourOpponent)) colour-opponent"),
            ("conv1 pretext on the held-out photo", String(format: "reconstruction from each filter's strongest 5%% of responses explains %.3f of the whitened-patch variance of %@ (held out), %.3f on training patches", learned.heldOutVarianceExplained, heldOut, learned.trainVarianceExplained)),
            ("comparison: k-means", "on whitened patches of the same photographs (\(recipe.competitive.iterations) iterations, not training): \(Self.classes(kmeansTaxonomy)); \(Self.withoutLocalization(kmeansScores))"),
            ("rotation network", String(format: "its own conv1 from a random initialization, trained end to end: %d SGD steps of batch %d, rotation accuracy %.3f on patches of %@ (held out; chance 0.25); its conv1: %@", recipe.steps, recipe.batch, trained.summary.testAccuracy ?? 0, heldOut, Self.classes(rotationTaxonomy))),
        ]
        let g = recipe.gradient
        let recipeSettings = ["conv1": "\(recipe.filters) x 3x\(recipe.kernel)x\(recipe.kernel), random init x\(g.initScale), trained by back-propagation (GradientFilterRecipe)",
                              "objective": "winner-take-all sparse autoencoder, \(Int(g.winnerFraction * 100))% winners per filter", "whitening floor": "\(g.whiteningFloor)",
                              "patches": "\(g.trainPatches)", "steps": "\(g.steps)", "batch": "\(g.batch)", "lr": "\(g.learningRate)", "weight decay": "\(g.weightDecay)", "seed": "\(recipe.seed)"]

        // 1. The mosaic, sorted by class, with badges.
        var mosaic = FilterMosaic(weights: learned.conv1)
        mosaic.title = "conv1 learned by back-propagation, grouped by class"
        mosaic.groupByTaxonomy(taxonomy)
        mosaic.columns = 12
        mosaic.scale = 6
        let order = mosaic.order!
        report.figures.append(.init(id: "filters", title: "What conv1 learned by back-propagation",
                                    caption: "conv1 learned \(conv1Method), shown in pixel space (the whitening folded in). Each filter scaled symmetrically around zero (mid-gray = 0), sorted: oriented edges (blue badge, tick along the edge), colour-opponent (orange), centre-surround/blob (green), unstructured (gray). \(report.facts[2].1).",
                                    settings: recipeSettings.merging(["normalization": "filter-symmetric", "scale": "x6"]) { a, _ in a }, scene: mosaic.scene()))

        // 2. Filmstrip: SGD steps on one colour scale.
        let steps = learned.snapshots.map { String($0.step) }
        let film = FilterFilmstrip(snapshots: learned.snapshots, order: Array(order.prefix(24)))
        report.figures.append(.init(id: "filmstrip", title: "The filters forming under SGD",
                                    caption: "The first 24 filters (in the order above) at SGD steps \(steps.joined(separator: ", ")) (step 0: the random initialization), all on one colour scale, so growth in contrast shows as well as shape.",
                                    settings: ["steps": steps.joined(separator: ","), "colour scale": "shared: largest |w| over every step"], scene: film.scene()))

        // 3. Back-propagation beside k-means.
        let comparison = FilterComparison(panels: [
            .init(label: "Learned by back-propagation (sparse autoencoder, SGD)", weights: learned.conv1, taxonomy: taxonomy,
                  notes: [Self.classes(taxonomy), Self.withoutLocalization(learned.trained)]),
            .init(label: "Comparison: k-means on whitened patches (not training)", weights: trained.kmeans, taxonomy: kmeansTaxonomy,
                  notes: [Self.classes(kmeansTaxonomy), Self.withoutLocalization(kmeansScores)]),
        ])
        report.figures.append(.init(id: "filter-comparison", title: "Back-propagation beside k-means",
                                    caption: "Left: conv1 learned by SGD (\(Self.classes(taxonomy))). Right, for comparison: spherical k-means on contrast-normalized, ZCA-whitened patches of the same photographs (CompetitiveFilterLearning, \(recipe.competitive.iterations) iterations; \(Self.classes(kmeansTaxonomy))).",
                                    settings: ["k-means patches": "\(recipe.competitive.patches)", "k-means whitening floor": "\(recipe.competitive.whiteningFloor)",
                                               "photos": recipe.competitive.photos.joined(separator: ",")], scene: comparison.scene()))

        // 4. Activation maps of the rotation network of a sample photo.
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
        activation.title = "Rotation network: conv1 + ReLU responses to the cat photo (first 12 maps)"
        report.figures.append(.init(id: "activations", title: "Activation maps", caption: "Maps 0-11 of relu1 of the rotation-prediction network (its own conv1, from a random initialization, trained end to end; not the conv1 above) for chelsea.png resized to 144x96, one colour scale (viridis).",
                                    settings: ["network": "rotation-net", "image": "chelsea.png", "layer": "relu1", "colormap": "viridis"], scene: activation.scene()))

        // 5. Receptive-field overlay with the effective field.
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
        report.figures.append(.init(id: "receptive-field", title: "Receptive field of one unit", caption: "Nested boxes: the field of conv1, pool1, conv2 and conv3 units at the same centre. Right: the effective field of the trained rotation-prediction network, averaged over 16 patches.",
                                    settings: ["network": "rotation-net", "layer": "conv3", "unit": "\(unit.y),\(unit.x)", "inputs": "16", "contour": "10% of peak"], scene: overlay.scene()))

        // 6-10. The lecture figures.
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
        curves.title = "Training the rotation-prediction network end to end (conv1 from random init)"
        report.figures.append(.init(id: "training-curves", title: "Training curves", caption: "Loss per logged window and rotation accuracy per epoch on patches of the held-out photo (\(heldOut)); every layer trained, conv1 included.",
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
