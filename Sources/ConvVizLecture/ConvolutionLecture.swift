import ConvVizCore
import ConvVizRender
import Foundation

/// The course's convolution figures: a convolution layer on one image and on a batch,
/// three stacked convolutions, what first-layer filters learn (a real training run),
/// receptive fields and stride on 2-D grids, the hyperparameter summary, and the 1x1
/// convolution. Shapes and counts come from the shape arithmetic, maps from real
/// convolutions, filters from back-propagation.
struct ConvolutionLecture {
    let context: LectureContext
    var l: Language { context.language }

    func figures() throws -> [Report.Figure] {
        let builders: [(String, () throws -> Report.Figure)] = [
            ("conv-layer", convLayer), ("conv-batched", convBatched), ("stacking", stacking), ("first-layer-filters", firstLayerFilters),
            ("receptive-field", receptiveField), ("stride", stride), ("conv-summary", summary), ("one-by-one", oneByOne),
        ]
        return try builders.filter { context.wants($0.0) }.map { try $0.1() }
    }

    func figure(_ id: String, _ title: String, _ caption: String, _ scene: Scene, settings: [String: String] = [:]) -> Report.Figure {
        Report.Figure(id: id, title: title, caption: caption, settings: settings, scene: scene)
    }

    /// The course's 3×32×32 image: a sample photograph, resized.
    func photo() throws -> Tensor {
        ImageResize.bilinear(ImageResize.channels(try SamplePhotos.load("chelsea"), 3), height: 32, width: 32)
    }

    func convLayer() throws -> Report.Figure {
        var f = ConvolutionLayerFigure(image: try photo(), filters: ConvolutionLayerFigure.orientedFilters(count: 6, size: 5))
        f.text.language = l
        return figure("conv-layer", l("A convolution layer", "卷积层"),
                      l("A 3×32×32 image, a 3×5×5 filter sliding over it, one 28×28 activation map; six filters give 6×28×28.",
                        "3×32×32 的图像，一个 3×5×5 的滤波器在其上滑动，得到一张 28×28 的激活图；六个滤波器得到 6×28×28。"),
                      f.scene(), settings: ["photo": "chelsea, resized to 32×32", "filters": "6 derivative-of-Gaussian colour edges, 5×5"])
    }

    static let oneConvolution = Architecture(name: "conv", input: [3, 32, 32], layers: [LayerSpec(.conv, name: "conv1", out: 6, kernel: Pair(5))])

    /// The volume picture of `architecture` for a batch of N images.
    func batchedVolumes(_ architecture: Architecture, title: String) throws -> Scene {
        var v = ConvolutionVolumes(table: try ShapeTable(architecture), architecture: architecture)
        v.batch = .symbolic
        v.text = FigureText(title: title, language: l)
        return v.scene()
    }

    func convBatched() throws -> Report.Figure {
        figure("conv-batched", l("A batch of images", "一批图像"),
                      l("N×3×32×32 in, six 3×5×5 filters (and six biases), N×6×28×28 out: the same filters for every image.",
                        "输入 N×3×32×32，六个 3×5×5 的滤波器（及六个偏置），输出 N×6×28×28：每张图像使用同一组滤波器。"),
               try batchedVolumes(Self.oneConvolution, title: l("A convolution layer on a batch of N images", "对一批 N 张图像做卷积")))
    }

    /// The course's stack: W1 6×3×5×5 (b1 6), W2 10×6×3×3, W3 12×10×3×3, ReLU between.
    static let stack = Architecture(name: "stack", input: [3, 32, 32], layers: [
        LayerSpec(.conv, name: "conv1", out: 6, kernel: Pair(5)), LayerSpec(.relu, name: "relu1"),
        LayerSpec(.conv, name: "conv2", out: 10, kernel: Pair(3)), LayerSpec(.relu, name: "relu2"),
        LayerSpec(.conv, name: "conv3", out: 12, kernel: Pair(3)), LayerSpec(.relu, name: "relu3"),
    ])

    func stacking() throws -> Report.Figure {
        figure("stacking", l("Stacking convolutions", "堆叠卷积层"),
               l("A ConvNet is a sequence of convolution layers with activation functions between them.", "卷积网络是一串卷积层，层与层之间是激活函数。"),
               try batchedVolumes(Self.stack, title: l("Stacking convolutions: conv, ReLU, conv, ReLU, conv, ReLU", "堆叠卷积层：卷积、ReLU、卷积、ReLU、卷积、ReLU")))
    }

    func firstLayerFilters() throws -> Report.Figure {
        var recipe = GradientFilterRecipe()
        recipe.seed = context.seed
        if context.budget == .smoke { recipe.steps = 20; recipe.trainPatches = 2_000; recipe.heldOutPatches = 500 }
        context.progress(l("training conv1 by back-propagation (\(recipe.steps) steps)", "用反向传播训练 conv1（\(recipe.steps) 步）"))
        let result = try recipe.run { m in
            if m.step % 500 == 0 { context.progress(l("conv1: step \(m.step)/\(recipe.steps), loss \(String(format: "%.4f", m.loss))", "conv1：第 \(m.step)/\(recipe.steps) 步，损失 \(String(format: "%.4f", m.loss))")) }
        }
        let taxonomy = FilterTaxonomy(weights: result.conv1)
        let pct = { (x: Double) in String(format: "%.0f%%", 100 * x) }
        let shape = result.conv1.shape.map(String.init).joined(separator: "×")
        var mosaic = FilterMosaic(weights: result.conv1)
        mosaic.title = l("First-layer filters learned by gradient descent (\(shape))", "梯度下降学到的第一层滤波器（\(shape)）")
        let summary = l("\(pct(taxonomy.fraction(.edge))) oriented edges, \(pct(taxonomy.fraction(.colorOpponent))) colour-opponent, \(pct(taxonomy.fraction(.blob))) centre-surround, \(pct(taxonomy.fraction(.unstructured))) unstructured",
                        "\(pct(taxonomy.fraction(.edge))) 为方向边缘，\(pct(taxonomy.fraction(.colorOpponent))) 为颜色对立，\(pct(taxonomy.fraction(.blob))) 为中心-周边，\(pct(taxonomy.fraction(.unstructured))) 无明显结构")
        let caption = l("conv1 from a random initialization, trained only by back-propagation (a sparse autoencoder on whitened 11×11 colour patches of the sample photographs, \(recipe.steps) SGD steps of batch \(recipe.batch), seed \(context.seed)): \(summary).",
                        "conv1 从随机初始化开始，只用反向传播训练（在示例照片的白化 11×11 彩色图块上训练稀疏自编码器，批大小 \(recipe.batch)，\(recipe.steps) 步 SGD，随机种子 \(context.seed)）：\(summary)。")
        mosaic.customCaption = TextMetrics.wrap(caption, size: Theme.captionSize, maxWidth: 1000)
        mosaic.columns = 12
        return figure("first-layer-filters", l(.firstLayerFilters).prefix(1).uppercased() + l(.firstLayerFilters).dropFirst(), caption, mosaic.scene(),
                      settings: ["steps": String(recipe.steps), "seed": String(context.seed)])
    }

    func receptiveField() throws -> Report.Figure {
        let three = try ReceptiveFieldGrid.stack(kernel: 3, strides: [1, 1, 1], name: "three 3×3")
        var grid = ReceptiveFieldGrid(panels: [.init(title: l("three 3×3 convolutions, stride 1", "三个 3×3 卷积，步幅 1"), table: try ShapeTable(three))])
        grid.text = FigureText(language: l)
        let field = ReceptiveFieldGrid.field(try ShapeTable(three))
        grid.lead = [l("A K×K kernel grows the receptive field by K−1 per layer (not K−2): three 3×3 layers see 1 + 3·2 = \(field)×\(field) input pixels.",
                       "K×K 卷积核每层使感受野增加 K−1（而不是 K−2）：三个 3×3 层看到 1 + 3·2 = \(field)×\(field) 个输入像素。")]
        return figure("receptive-field", l(.receptiveField).prefix(1).uppercased() + l(.receptiveField).dropFirst(),
                      l("The centre unit of the third layer and every cell it depends on, layer by layer.", "第三层中心单元及其在每一层所依赖的全部单元。"), grid.scene())
    }

    func stride() throws -> Report.Figure {
        let plain = try ReceptiveFieldGrid.stack(kernel: 3, strides: [1, 1, 1], name: "plain")
        let strided = try ReceptiveFieldGrid.stack(kernel: 3, strides: [1, 2, 1], name: "strided")
        var grid = ReceptiveFieldGrid(panels: [
            .init(title: l("stride 1, 1, 1", "步幅 1、1、1"), table: try ShapeTable(plain)),
            .init(title: l("stride 1, 2, 1", "步幅 1、2、1"), table: try ShapeTable(strided)),
        ])
        grid.text = FigureText(language: l)
        grid.defaultTitle = { $0("Stride grows the receptive field faster", "步幅让感受野增长得更快") }
        let a = ReceptiveFieldGrid.field(try ShapeTable(plain)), b = ReceptiveFieldGrid.field(try ShapeTable(strided))
        grid.lead = [l("The same three 3×3 layers, once with stride 2 in the middle: every layer above a stride-2 layer adds twice as much, so the field is \(b)×\(b) instead of \(a)×\(a), and the maps are smaller.",
                       "同样三个 3×3 层，中间一层步幅为 2：步幅 2 之上的每一层增加的感受野翻倍，因此感受野为 \(b)×\(b) 而不是 \(a)×\(a)，特征图也更小。")]
        return figure("stride", l(.stride).prefix(1).uppercased() + l(.stride).dropFirst(),
                      l("Receptive fields with and without a stride-2 layer.", "有无步幅 2 的层时的感受野。"), grid.scene())
    }

    func summary() throws -> Report.Figure {
        var s = HyperparameterSummary(input: [64, 56, 56])
        s.text = FigureText(language: l)
        return figure("conv-summary", l("Hyperparameters of a convolution layer", "卷积层的超参数"),
                      l("K, F, S, P and what they give for a 64×56×56 input.", "K、F、S、P 以及它们对 64×56×56 输入给出的结果。"), try s.scene())
    }

    /// A 1x1 convolution reducing 64 channels to 32 at the same spatial size.
    static let reduction = Architecture(name: "1x1", input: [64, 56, 56], layers: [LayerSpec(.conv, name: "conv1x1", out: 32, kernel: Pair(1)), LayerSpec(.relu, name: "relu")])

    func oneByOne() throws -> Report.Figure {
        var v = ConvolutionVolumes(table: try ShapeTable(Self.reduction), architecture: Self.reduction)
        v.text = FigureText(language: l)
        let row = try ShapeTable(Self.reduction).rows[0]
        v.text.title = l("1×1 convolution: 64 channels to 32", "1×1 卷积：64 个通道变为 32 个")
        v.text.caption = l("Each of the 32 filters is 64×1×1: at every one of the 56×56 positions it takes a 64-dimensional dot product of the input's channels (plus a bias), a small fully connected layer applied at every pixel. The spatial size stays 56×56; depth goes from 64 to 32 (\(row.params) parameters, \(FigureNumber.grouped(row.macs)) multiply-adds). Box depth is proportional to channels.",
                           "32 个滤波器各为 64×1×1：在 56×56 的每个位置上，对输入的 64 个通道做一次 64 维点积（再加偏置），相当于在每个像素上做一个小的全连接层。空间大小仍为 56×56，深度从 64 变为 32（\(row.params) 个参数，\(FigureNumber.grouped(row.macs)) 次乘加）。方块深度与通道数成正比。")
        return figure("one-by-one", l(.oneByOne), v.text.caption!, v.scene())
    }
}
