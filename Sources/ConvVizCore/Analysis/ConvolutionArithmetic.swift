/// Where a convolution's window goes: the output size, and for every output position
/// the input cells under the kernel's taps, for a direct or a transposed convolution
/// (Dumoulin and Visin, "A guide to convolution arithmetic for deep learning", 2016).
///
/// Both are drawn as a stride-1-or-more window sliding over a *grid*:
/// - direct: the input with `P` cells of zero padding on each side; the window moves by
///   `S`; output `H' = floor((H + 2P - D(K-1) - 1)/S) + 1` (`Window2D.outputLength`).
/// - transposed (PyTorch's `ConvTranspose2d`): the input with `S - 1` zeros inserted
///   between cells, `q = D(K-1) - P` cells of padding before and `q + output_padding`
///   after (a negative `q` crops instead); the window moves by 1;
///   `H' = (H-1)S - 2P + D(K-1) + output_padding + 1`.
///
/// Grid coordinates: input cell `i` sits at `i * spacing` (spacing 1 direct, `S`
/// transposed); padding is at negative positions and past the last cell.
public struct ConvolutionArithmetic: Sendable, Equatable {
    /// Input height and width.
    public let input: Pair
    public let kernel: Int, stride: Int, padding: Int, dilation: Int
    public let transposed: Bool
    public let outputPadding: Int
    public let output: Pair

    /// A combination no convolution accepts, with the arithmetic that rules it out.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    public init(input: Pair, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1, transposed: Bool = false, outputPadding: Int = 0) throws {
        guard input.h >= 1, input.w >= 1 else { throw Invalid(description: "the input must be at least 1x1 (got \(input.h)x\(input.w))") }
        guard kernel >= 1 else { throw Invalid(description: "the kernel must be at least 1 (got \(kernel))") }
        guard stride >= 1 else { throw Invalid(description: "the stride must be at least 1 (got \(stride))") }
        guard dilation >= 1 else { throw Invalid(description: "the dilation must be at least 1 (got \(dilation))") }
        guard padding >= 0 else { throw Invalid(description: "the padding must be at least 0 (got \(padding))") }
        guard outputPadding >= 0 else { throw Invalid(description: "the output padding must be at least 0 (got \(outputPadding))") }
        guard max(input.h, input.w, kernel, stride, padding, dilation, outputPadding) <= 1 << 20 else { throw Invalid(description: "sizes above 2^20 are not drawn") }
        let span = dilation * (kernel - 1) + 1
        var out = Pair(0)
        for (axis, n) in [("height", input.h), ("width", input.w)] {
            let length: Int
            if transposed {
                guard outputPadding < max(stride, dilation) else {
                    throw Invalid(description: "output padding \(outputPadding) must be smaller than the stride (\(stride)) or the dilation (\(dilation)), as in PyTorch's ConvTranspose2d")
                }
                length = (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1
                guard length >= 1 else {
                    throw Invalid(description: "transposed output \(axis) (H-1)S - 2P + D(K-1) + output_padding + 1 = (\(n)-1)·\(stride) - 2·\(padding) + \(dilation)·\(kernel - 1) + \(outputPadding) + 1 = \(length) is not positive: less padding, please")
                }
            } else {
                guard outputPadding == 0 else { throw Invalid(description: "output padding applies to transposed convolutions only") }
                guard let l = Window2D.outputLength(input: n, kernel: kernel, stride: stride, padding: padding, dilation: dilation) else {
                    throw Invalid(description: "the dilated kernel spans D(K-1) + 1 = \(dilation)·\(kernel - 1) + 1 = \(span) cells but the padded input \(axis) is H + 2P = \(n) + 2·\(padding) = \(n + 2 * padding): no window fits")
                }
                length = l
            }
            if axis == "height" { out.h = length } else { out.w = length }
        }
        self.input = input; self.kernel = kernel; self.stride = stride; self.padding = padding; self.dilation = dilation
        self.transposed = transposed; self.outputPadding = outputPadding
        output = out
    }

    /// Grid steps between neighbouring input cells: `S` when transposed (zeros between), else 1.
    public var spacing: Int { transposed ? stride : 1 }
    /// Grid steps the window moves per output cell: 1 when transposed, else `S`.
    public var windowStride: Int { transposed ? 1 : stride }
    /// Padding cells before the first input cell (negative: the window starts inside).
    public var leading: Int { transposed ? dilation * (kernel - 1) - padding : padding }
    /// Padding cells after the last input cell.
    public var trailing: Int { transposed ? dilation * (kernel - 1) - padding + outputPadding : padding }

    /// The grid positions drawn along an axis of `n` input cells: the input and its padding.
    public func gridRange(_ n: Int) -> ClosedRange<Int> {
        let last = (n - 1) * spacing
        return min(0, -leading)...max(last, last + trailing)
    }

    /// Grid positions (row, column) under the kernel's taps for output (y, x), tap
    /// (i, j) at index `i * K + j`.
    public func footprint(y: Int, x: Int) -> [Pair] {
        var taps: [Pair] = []
        for i in 0..<kernel {
            for j in 0..<kernel {
                taps.append(Pair(y * windowStride - leading + i * dilation, x * windowStride - leading + j * dilation))
            }
        }
        return taps
    }

    /// The input cell at a grid position along one axis of `n` cells, or nil (padding or
    /// an inserted zero).
    public func inputIndex(_ position: Int, count n: Int) -> Int? {
        guard position >= 0, position % spacing == 0, position / spacing < n else { return nil }
        return position / spacing
    }

    /// Output positions in the order the window visits them (row by row).
    public var positions: [Pair] { (0..<output.h).flatMap { y in (0..<output.w).map { Pair(y, $0) } } }
}

extension ConvolutionArithmetic {
    /// The output values `[H', W']` of this convolution of `x` (`[H, W]`) with `w`
    /// (`[K, K]`), no bias: a direct convolution through ConvViz's `Conv2D`; a transposed
    /// one by its definition, each input cell scattering `x[i] w[k]` to output
    /// `i S - P + k D` (PyTorch's `ConvTranspose2d`), independent of the gathering window
    /// the animation draws.
    public func apply(input x: Tensor, kernel w: Tensor) -> Tensor {
        precondition(x.shape == [input.h, input.w] && w.shape == [kernel, kernel])
        guard transposed else {
            var rng = SeededGenerator(seed: 0)
            let conv = Conv2D(name: "conv", inputChannels: 1, outputChannels: 1,
                              window: Window2D(kernel: Pair(kernel), stride: Pair(stride), padding: Pair(padding), dilation: Pair(dilation)), bias: false, rng: &rng)
            conv.weight.value = w.reshaped([1, 1, kernel, kernel])
            return conv.forward(x.reshaped([1, 1, input.h, input.w]), mode: .evaluation).reshaped([output.h, output.w])
        }
        var y = Tensor(shape: [output.h, output.w])
        for iy in 0..<input.h { for ix in 0..<input.w { for ky in 0..<kernel { for kx in 0..<kernel {
            let (oy, ox) = (iy * stride - padding + ky * dilation, ix * stride - padding + kx * dilation)
            if (0..<output.h).contains(oy), (0..<output.w).contains(ox) { y[oy, ox] += x[iy, ix] * w[ky, kx] }
        } } } }
        return y
    }
}
