import Foundation

/// Several methods on a batch of images, as `convviz attribute` shows them: the maps
/// (a list per method, one map per (image, class) pair), each image's top predictions,
/// and the CAM layer with its theoretical receptive field (why its map is coarse).
public struct AttributionStudy {
    public struct Prediction: Sendable { public let classIndex: Int; public let probability: Double }

    public let methods: [AttributionMethod]
    /// Per method, one map per pair, in the order of `pairs`.
    public let maps: [[AttributionMap]]
    public let pairs: [(image: Int, classIndex: Int)]
    /// Per image, the five most probable classes (softmax of the logits).
    public let predictions: [[Prediction]]
    /// The CAM layer, when a method uses one: its name, output shape `[C, h, w]`,
    /// receptive field and jump (input pixels, height and width).
    public let layer: (name: String, shape: [Int], receptiveField: [Double], jump: [Double])?

    public typealias Progress = (_ method: AttributionMethod, _ done: Int, _ total: Int) -> Void

    /// Runs every method on `inputs` `[N, C, H, W]` for `targets` (one for all images or
    /// one each).
    public init(graph: Graph, inputs: Tensor, targets: [AttributionTarget], methods: [AttributionMethod],
                settings: AttributionSettings, progress: Progress? = nil) throws {
        let attributor = Attributor(graph: graph)
        let logits = attributor.logits(inputs)
        pairs = try AttributionTarget.resolve(targets, logits: logits)
        let k = logits.shape[1]
        predictions = (0..<logits.shape[0]).map { i in
            let p = AttributionTarget.softmax(Array(logits.data[i * k..<(i + 1) * k]))
            return AttributionTarget.ranked(p.map { Float($0) }).prefix(5).map { Prediction(classIndex: $0, probability: p[$0]) }
        }
        var settings = settings
        if methods.contains(where: \.usesLayer) {
            let index = try attributor.checkedLayer(settings.layer)
            settings.layer = index
            let row = try ShapeTable(graph.architecture).rows[index]
            layer = (row.name, row.output, row.receptiveField, row.jump)
        } else {
            layer = nil
        }
        self.methods = methods
        var maps: [[AttributionMap]] = []
        for method in methods {
            maps.append(try attributor.attribute(method, inputs: inputs, pairs: pairs, settings: settings,
                                                 progress: progress.map { p in { p(method, $0, $1) } }))
        }
        self.maps = maps
    }

    /// The raw values of one method, stacked: CAMs `[pairs, h, w]` at the layer's
    /// resolution before ReLU and min-max; the others `[pairs, C, H, W]`.
    public func rawMaps(_ method: AttributionMethod) -> Tensor {
        let list = maps[methods.firstIndex(of: method)!]
        return Tensor(shape: [list.count] + list[0].raw.shape, data: list.flatMap(\.raw.data))
    }
}

/// Class names, one per line of a text file (ImageNet's `imagenet_classes.txt` style).
public enum ClassLabels {
    public static func read(_ path: String) throws -> [String] {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: path) else { throw ReadError(path, .notFound, "no such labels file") }
        let data = try Data(contentsOf: url)
        guard data.count <= 64 << 20 else { throw ReadError(path, .tooLarge, "a labels file of \(data.count) bytes; at most 64 MiB") }
        guard let text = String(data: data, encoding: .utf8) else { throw ReadError(path, .corrupt, "not UTF-8 text: give one class name per line") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        while lines.last == "" { lines.removeLast() }
        return lines
    }
}

extension AttributionStudy {
    /// One map's deletion and insertion scores.
    public struct Score: Sendable {
        public let method: AttributionMethod
        public let image: Int
        public let classIndex: Int
        public let curves: DeletionInsertion
        /// ROAD's MoRF and LeRF at `roadPercentiles`.
        public let road: ROAD
    }

    /// Deletion and insertion of every map (display maps ranked, largest first), with the
    /// same for random rankings, and ROAD at `roadPercentiles`. `inputs` is the batch the
    /// study ran on.
    public func scores(graph: Graph, inputs: Tensor, settings: AttributionSettings, randomRankings: Int = 5,
                       roadPercentiles: [Int] = ROAD.defaultPercentiles, progress: ((Int, Int) -> Void)? = nil) -> [Score] {
        let attributor = Attributor(graph: graph)
        var out: [Score] = []
        let total = methods.count * pairs.count
        for (m, method) in methods.enumerated() {
            for (i, pair) in pairs.enumerated() {
                let x = Attributor.sample(inputs, pair.image)
                out.append(Score(method: method, image: pair.image, classIndex: pair.classIndex,
                                 curves: DeletionInsertion(attributor: attributor, image: x, map: maps[m][i].display, classIndex: pair.classIndex,
                                                           seeds: randomRankings, batch: settings.batch, seed: settings.seed),
                                 road: ROAD(attributor: attributor, image: x, map: maps[m][i].display, classIndex: pair.classIndex,
                                            percentiles: roadPercentiles, batch: settings.batch, seed: settings.seed)))
                progress?(out.count, total)
            }
        }
        return out
    }
}
