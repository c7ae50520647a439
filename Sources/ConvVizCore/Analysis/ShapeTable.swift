/// Per-layer arithmetic for an architecture: output shape, parameters, multiply-adds
/// and the receptive field (size, jump, centre) of each layer's units.
///
/// Receptive field, per axis, from the input upward (r_0 = 1, j_0 = 1, c_0 = 0):
///   r_l = r_{l-1} + (K_l - 1) D_l j_{l-1}
///   j_l = j_{l-1} S_l
///   c_l = c_{l-1} + (D_l (K_l - 1) / 2 - P_l) j_{l-1}
/// where c_l is the centre of the top-left unit's field in input pixel coordinates
/// (0-indexed; it may be negative or fractional). Unit (y, x) of layer l is centred at
/// (c_l + y j_l, c_l + x j_l). Layers after a flatten or linear layer see the whole input.
public struct ShapeTable: Sendable {
    public struct Row: Sendable, Equatable {
        public let name: String
        public let type: String
        public let output: [Int]
        public let params: Int
        public let macs: Int
        public let receptiveField: [Double]
        public let jump: [Double]
        public let center: [Double]
        /// Sliding window of a conv or pooling layer (nil for the others).
        public let window: Window2D?
    }

    public let input: [Int]
    public let rows: [Row]
    public var totalParams: Int { rows.reduce(0) { $0 + $1.params } }
    public var totalMACs: Int { rows.reduce(0) { $0 + $1.macs } }

    public init(_ architecture: Architecture) throws {
        input = architecture.input
        let model = try architecture.makeModel(seed: 0)
        var r = [1.0, 1.0], j = [1.0, 1.0], c = [0.0, 0.0]
        var global = false
        var rows: [Row] = []
        var shape = architecture.input
        for (spec, layer) in zip(architecture.layers, model.layers) {
            let output = try layer.outputShape(for: shape)
            let params = layer.parameters.filter(\.trainable).reduce(0) { $0 + $1.value.count }
            var macs = 0
            if let conv = layer as? Conv2D {
                macs = output.reduce(1, *) * conv.inputChannels * conv.window.kernel.h * conv.window.kernel.w
            } else if let fc = layer as? Linear {
                macs = fc.inputFeatures * fc.outputFeatures
            }
            if spec.kind == .flatten || spec.kind == .linear { global = true }
            let window = spec.window
            if !global, let w = window {
                let k = [w.kernel.h, w.kernel.w], s = [w.stride.h, w.stride.w], p = [w.padding.h, w.padding.w], d = [w.dilation.h, w.dilation.w]
                for a in 0..<2 {
                    c[a] += (Double(d[a] * (k[a] - 1)) / 2 - Double(p[a])) * j[a]
                    r[a] += Double((k[a] - 1) * d[a]) * j[a]
                    j[a] *= Double(s[a])
                }
            }
            let h = Double(architecture.input[1]), wd = Double(architecture.input[2])
            rows.append(Row(name: spec.name!, type: spec.kind.rawValue, output: output, params: params, macs: macs,
                            receptiveField: global ? [h, wd] : r, jump: global ? [h, wd] : j,
                            center: global ? [(h - 1) / 2, (wd - 1) / 2] : c, window: window))
            shape = output
        }
        self.rows = rows
    }

    /// The input-pixel box `[y0, x0, y1, x1]` (inclusive pixel indices, possibly outside
    /// the image) seen by unit (y, x) of row `index`.
    public func field(row index: Int, unit: (y: Int, x: Int)) -> (y0: Double, x0: Double, y1: Double, x1: Double) {
        let row = rows[index]
        let cy = row.center[0] + Double(unit.y) * row.jump[0], cx = row.center[1] + Double(unit.x) * row.jump[1]
        let hy = (row.receptiveField[0] - 1) / 2, hx = (row.receptiveField[1] - 1) / 2
        return (cy - hy, cx - hx, cy + hy, cx + hx)
    }
}
