/// Per-layer arithmetic for an architecture: output shape, parameters, multiply-adds
/// and the receptive field (size, jump, centre) of each layer's units.
///
/// Receptive field, per axis, from the input upward (r_0 = 1, j_0 = 1, c_0 = 0):
///   r_l = r_{l-1} + (K_l - 1) D_l j_{l-1}
///   j_l = j_{l-1} S_l
///   c_l = c_{l-1} + (D_l (K_l - 1) / 2 - P_l) j_{l-1}
/// where c_l is the centre of the top-left unit's field in input pixel coordinates
/// (0-indexed; it may be negative or fractional). Unit (y, x) of layer l is centred at
/// (c_l + y j_l, c_l + x j_l). Layers after a flatten, linear or global pooling layer see
/// the whole input.
///
/// Where branches meet (addition, multiplication, concatenation) a unit sees every
/// input's field: size, jump and centre are the maximum over the inputs, and when the
/// inputs disagree in centre or jump (Araujo, Norris and Sim, Distill 2019) the row is
/// marked misaligned and keeps each branch's numbers, so that no single number hides it.
public struct ShapeTable: Sendable {
    /// One input's field where branches meet.
    public struct Branch: Sendable, Equatable {
        public let from: String
        public let receptiveField: [Double]
        public let jump: [Double]
        public let center: [Double]
    }

    public struct Row: Sendable, Equatable {
        public let name: String
        public let type: String
        public let inputs: [String]
        public let output: [Int]
        public let params: Int
        public let macs: Int
        /// What a unit depends on: the whole image once a global gate (squeeze-excitation)
        /// has fed in.
        public let receptiveField: [Double]
        /// The field through the spatial paths alone: where a unit looks.
        public let localReceptiveField: [Double]
        public let jump: [Double]
        public let center: [Double]
        /// Sliding window of a conv or pooling layer (nil for the others).
        public let window: Window2D?
        /// Per-sample shape of the (first) input.
        public let inputShape: [Int]
        /// Convolution groups (1 for the others).
        public let groups: Int
        /// The inputs' fields where branches meet in disagreement; empty otherwise.
        public let misalignedBranches: [Branch]
        public var isAligned: Bool { misalignedBranches.isEmpty }
        /// Whether units see the whole image through a global gate besides their local field.
        public var hasGlobalContext: Bool { receptiveField != localReceptiveField }
    }

    public let input: [Int]
    public let rows: [Row]
    /// Totals saturate at `Int.max` (a description may ask for absurd sizes).
    public var totalParams: Int { rows.reduce(0) { LayerSpec.sum($0, $1.params) } }
    public var totalMACs: Int { rows.reduce(0) { LayerSpec.sum($0, $1.macs) } }

    /// The field of one value: size, jump and centre per axis; global once a unit sees
    /// the whole input.
    fileprivate struct Field {
        var r = [1.0, 1.0], j = [1.0, 1.0], c = [0.0, 0.0]
        /// A global summary (flat, or pooled to 1x1): no position left.
        var global = false
        /// Spatial, but a global gate fed in: units also see the whole image.
        var context = false
    }

    public init(_ architecture: Architecture) throws {
        input = architecture.input
        let wiring = try architecture.wiring()
        let shapes = try architecture.shapes()
        let (h, w) = (Double(architecture.input[1]), Double(architecture.input[2]))
        let whole = Field(r: [h, w], j: [h, w], c: [(h - 1) / 2, (w - 1) / 2], global: true)
        var fields: [Field] = []
        var rows: [Row] = []
        for (i, spec) in architecture.layers.enumerated() {
            let inputFields = wiring[i].map { $0 < 0 ? Field() : fields[$0] }
            let inputShapes = wiring[i].map { $0 < 0 ? architecture.input : shapes[$0] }
            // Inputs that are global summaries (a squeeze-excitation gate [C, 1, 1]) give
            // every unit the whole image as context but no position: the local field,
            // jump and centre come from the spatial inputs.
            let spatial = inputFields.enumerated().filter { !$0.element.global }
            var field = inputFields[0]
            var branches: [Branch] = []
            if spatial.isEmpty || spec.kind.isGlobal {
                field = whole
            } else if inputFields.count > 1 {
                let fs = spatial.map(\.element)
                field = Field(r: Self.maxima(fs.map(\.r)), j: Self.maxima(fs.map(\.j)), c: Self.maxima(fs.map(\.c)),
                              context: fs.contains(where: \.context) || spatial.count < inputFields.count)
                if Set(fs.map(\.c)).count > 1 || Set(fs.map(\.j)).count > 1 {
                    branches = spatial.map { k, f in
                        let j = wiring[i][k]
                        return Branch(from: j < 0 ? Architecture.inputName : architecture.layers[j].name!, receptiveField: f.r, jump: f.j, center: f.c)
                    }
                }
            } else if let window = Self.effectiveWindow(spec, input: inputShapes[0], output: shapes[i]) {
                if window.kernel == Pair(inputShapes[0][1], inputShapes[0][2]) && spec.kind == .adaptiveavgpool {
                    field = whole
                } else {
                    field.grow(by: window)
                }
            }
            rows.append(Row(name: spec.name!, type: spec.kind.rawValue,
                            inputs: wiring[i].map { $0 < 0 ? Architecture.inputName : architecture.layers[$0].name! },
                            output: shapes[i], params: spec.parameterCount(inputs: inputShapes),
                            macs: spec.multiplyAdds(inputs: inputShapes, output: shapes[i]),
                            receptiveField: field.context ? whole.r : field.r, localReceptiveField: field.r,
                            jump: field.j, center: field.c, window: spec.window,
                            inputShape: inputShapes[0], groups: spec.kind == .conv ? (spec.groups ?? 1) : 1,
                            misalignedBranches: branches))
            fields.append(field)
        }
        self.rows = rows
    }

    private static func maxima(_ values: [[Double]]) -> [Double] {
        (0..<2).map { a in values.map { $0[a] }.max()! }
    }

    /// The window a layer slides over its input; adaptive pooling acts as a window of
    /// stride `floor(in/out)` (exact when the sizes divide).
    private static func effectiveWindow(_ spec: LayerSpec, input: [Int], output: [Int]) -> Window2D? {
        if let window = spec.window { return window }
        guard spec.kind == .adaptiveavgpool, input.count == 3, output.count == 3 else { return nil }
        let stride = Pair(input[1] / output[1], input[2] / output[2])
        return Window2D(kernel: Pair(input[1] - (output[1] - 1) * stride.h, input[2] - (output[2] - 1) * stride.w),
                        stride: stride)
    }

    /// The input-pixel box `[y0, x0, y1, x1]` (inclusive pixel indices, possibly outside
    /// the image) of unit (y, x) of row `index`: its local field (global context aside).
    public func field(row index: Int, unit: (y: Int, x: Int)) -> (y0: Double, x0: Double, y1: Double, x1: Double) {
        let row = rows[index]
        let cy = row.center[0] + Double(unit.y) * row.jump[0], cx = row.center[1] + Double(unit.x) * row.jump[1]
        let hy = (row.localReceptiveField[0] - 1) / 2, hx = (row.localReceptiveField[1] - 1) / 2
        return (cy - hy, cx - hx, cy + hy, cx + hx)
    }

    /// The last layer whose units form a map (spatial output larger than 1x1): the
    /// default unit for receptive-field figures (after a global pool, a unit sees all).
    public var lastSpatialRow: Int? {
        rows.lastIndex { $0.output.count == 3 && $0.output[1] * $0.output[2] > 1 }
    }

    /// Splits `path` (row indices, input first) into stages at every change of jump: for
    /// each stage its last row and how many rows it has. A stage ends where the next
    /// row downsamples.
    public func stages(along path: [Int]) -> [(end: Int, rows: Int)] {
        var result: [(end: Int, rows: Int)] = []
        var count = 0
        for (k, i) in path.enumerated() {
            count += 1
            if k == path.count - 1 || rows[path[k + 1]].jump != rows[i].jump {
                result.append((i, count))
                count = 0
            }
        }
        return result
    }

    /// The row indices on the longest path from the input to row `last`: the main line
    /// of a network with branches (a ResNet's stages, not its shortcuts).
    public func mainPath(to last: Int) -> [Int] {
        var index: [String: Int] = [:]
        for (i, row) in rows.enumerated() { index[row.name] = i }
        var depth = [Int](repeating: 0, count: rows.count), previous = [Int?](repeating: nil, count: rows.count)
        for (i, row) in rows.enumerated() {
            for name in row.inputs {
                guard let j = index[name], j < i else { continue }
                if depth[j] + 1 > depth[i] { depth[i] = depth[j] + 1; previous[i] = j }
            }
        }
        var path = [last]
        while let p = previous[path.last!] { path.append(p) }
        return path.reversed()
    }
}

extension ShapeTable.Field {
    mutating func grow(by window: Window2D) {
        let k = [window.kernel.h, window.kernel.w], s = [window.stride.h, window.stride.w]
        let p = [window.padding.h, window.padding.w], d = [window.dilation.h, window.dilation.w]
        for a in 0..<2 {
            c[a] += (Double(d[a] * (k[a] - 1)) / 2 - Double(p[a])) * j[a]
            r[a] += Double((k[a] - 1) * d[a]) * j[a]
            j[a] *= Double(s[a])
        }
    }
}
