import ConvVizCore
import Foundation

/// What the volume picture draws, read off the shape arithmetic: the input, then along
/// the main path every convolution (its filter bank and its output) and every pooling
/// layer (its output), with the activation that follows each one. Nothing is typed in:
/// every shape, stride, padding and parameter count comes from `ShapeTable`.
public struct VolumeSequence: Sendable {
    public enum Kind: Sendable, Equatable { case input, filters, convolutionOutput, poolingOutput }

    /// One box.
    public struct Volume: Sendable {
        public let kind: Kind
        /// The layer it belongs to ("input" for the input).
        public let layer: String
        /// Channels (depth), height and width.
        public let c: Int, h: Int, w: Int
        /// Filters only: how many (the bank's output channels).
        public var count = 1
        /// Filters only: index among the convolutions, from 1 (W1, b1).
        public var ordinal = 0
        /// Pooling outputs only: whether the pool takes the average (else the maximum).
        public var averages = false
        /// Outputs only: the activation applied after the layer ("relu"), if any.
        public var activation: String?
        /// The layer's window (filters: the convolution's; pooling outputs: the pool's).
        public var window: Window2D?
        /// The shape the window slides over (C, H, W).
        public var windowInput: [Int] = []
        /// Learnable parameters (filters: weights and biases).
        public var parameters = 0
        /// Whether the filter bank has biases.
        public var bias = true
    }

    public let volumes: [Volume]
    /// Convolutions and pools on the main path that were not drawn.
    public let omitted: Int

    public init(table: ShapeTable, architecture: Architecture? = nil, maxConvolutions: Int = 8) {
        var volumes = [Volume(kind: .input, layer: "input", c: table.input[0], h: table.input[1], w: table.input[2])]
        let path = table.lastSpatialRow.map { table.mainPath(to: $0) } ?? []
        var convolutions = 0, omitted = 0
        for (position, index) in path.enumerated() {
            let row = table.rows[index]
            guard row.output.count == 3, let window = row.window, ["conv", "maxpool", "avgpool"].contains(row.type) else { continue }
            if convolutions >= maxConvolutions { omitted += 1; continue }
            // The activation drawn with this layer: the first one before the next windowed layer.
            let next = path[(position + 1)...].map { table.rows[$0] }.prefix { $0.window == nil }
            let activation = next.first { ["relu", "relu6", "leakyrelu", "sigmoid", "silu", "hardswish", "clip"].contains($0.type) }?.type
            if row.type == "conv" {
                convolutions += 1
                let spec = architecture?.layers.first { $0.name == row.name }
                let groups = row.groups
                volumes.append(Volume(kind: .filters, layer: row.name, c: row.inputShape[0] / groups, h: window.kernel.h, w: window.kernel.w,
                                      count: row.output[0], ordinal: convolutions, window: window, windowInput: row.inputShape,
                                      parameters: row.params, bias: spec?.bias ?? true))
                volumes.append(Volume(kind: .convolutionOutput, layer: row.name, c: row.output[0], h: row.output[1], w: row.output[2], activation: activation))
            } else {
                volumes.append(Volume(kind: .poolingOutput, layer: row.name, c: row.output[0], h: row.output[1], w: row.output[2],
                                      averages: row.type == "avgpool", activation: activation, window: window, windowInput: row.inputShape))
            }
        }
        self.volumes = volumes
        self.omitted = omitted
    }

    /// The output-size arithmetic of one windowed layer along the height, as the lecture
    /// writes it: "(32 + 2·0 − 5)/1 + 1 = 28".
    public static func arithmetic(input: Int, window: Window2D, output: Int) -> String {
        let extent = window.dilation.h * (window.kernel.h - 1) + 1
        let k = window.dilation.h == 1 ? "\(window.kernel.h)" : "\(window.dilation.h)·(\(window.kernel.h)−1)+1"
        let fraction = "(\(input) + 2·\(window.padding.h) − \(k))/\(window.stride.h)"
        // Written as a floor only where the division is not exact (the lecture's form).
        let exact = (input + 2 * window.padding.h - extent) % window.stride.h == 0
        // No-break spaces: a caption wraps between formulas, never inside one.
        return "\(exact ? fraction : "⌊\(fraction)⌋") + 1 = \(output)".replacingOccurrences(of: " ", with: "\u{00A0}")
    }
}
