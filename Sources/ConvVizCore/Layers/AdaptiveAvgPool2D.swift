/// Adaptive average pooling to a fixed output size, as PyTorch defines it: output cell
/// `i` of `n` averages input rows `floor(i*H/n) ..< ceil((i+1)*H/n)` (and likewise for
/// columns). Output size 1x1 is global average pooling.
public final class AdaptiveAvgPool2D: Layer {
    public let name: String
    public let outputSize: Pair
    private var inputShape: [Int] = []

    public init(name: String, outputSize: Pair) {
        self.name = name
        self.outputSize = outputSize
    }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 3 else { throw ShapeError(layer: name, "expects [C, H, W] input, got \(input)") }
        return [input[0], outputSize.h, outputSize.w]
    }

    /// The input cells of output cell `i` of `n` along an axis of length `length`.
    static func span(_ i: Int, of n: Int, length: Int) -> Range<Int> {
        (i * length / n)..<(((i + 1) * length + n - 1) / n)
    }

    /// Calls `body(outputIndex, inputRows, inputColumns)` for each cell of one plane.
    private func forEachCell(height h: Int, width w: Int, _ body: (Int, Range<Int>, Range<Int>) -> Void) {
        for oy in 0..<outputSize.h {
            let rows = Self.span(oy, of: outputSize.h, length: h)
            for ox in 0..<outputSize.w { body(oy * outputSize.w + ox, rows, Self.span(ox, of: outputSize.w, length: w)) }
        }
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let cells = outputSize.h * outputSize.w
        var y = Tensor(uninitializedShape: [n, c, outputSize.h, outputSize.w])
        input.data.withUnsafeBufferPointer { xb in y.data.withUnsafeMutableBufferPointer { yb in
            let x = xb.baseAddress!, out = yb.baseAddress!
            Parallel.forEachRange(n * c, minimumPerPart: 16) { _, planes in
                for plane in planes {
                    let src = x + plane * h * w
                    forEachCell(height: h, width: w) { o, rows, columns in
                        var sum: Float = 0
                        for iy in rows { sum += Vector.sum(src + iy * w + columns.lowerBound, count: columns.count) }
                        out[plane * cells + o] = sum / Float(rows.count * columns.count)
                    }
                }
            }
        }}
        if mode.recordsForBackward { inputShape = input.shape }
        return y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        precondition(!inputShape.isEmpty, "\(name): backward without a recording forward")
        let (n, c, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let cells = outputSize.h * outputSize.w
        var dx = Tensor(shape: inputShape)
        for plane in 0..<(n * c) {
            forEachCell(height: h, width: w) { o, rows, columns in
                let g = gradOutput.data[plane * cells + o] / Float(rows.count * columns.count)
                for iy in rows { for ix in columns { dx.data[plane * h * w + iy * w + ix] += g } }
            }
        }
        return dx
    }
}
