import CKernels
import XCTest
@testable import ConvVizCore

/// The AVX-512 panel kernel (`CKernels/panel_gemm.c`, issue 27) and the convolution paths
/// that use it: every product against float64 sums, any split of rows and columns the
/// same bytes, the convolutions equal to the direct loops and to OpenBLAS's within float
/// rounding, the same bytes on 1, 2, 3 and 8 workers, and the packed weight renewed when
/// the weight changes. Skipped on a CPU without AVX-512, where nothing calls it.
final class PanelGEMMTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(PanelGEMM.isAvailable, "the CPU has no AVX-512 (or CONVVIZ_PANEL_GEMM=0): the panel kernel never runs here")
    }
    override func tearDown() { Parallel.workers = ProcessInfo.processInfo.activeProcessorCount }

    /// Y = W B (+ bias, ReLU) through the kernel, rows `panels`, columns `columns` of an `m x n` output.
    func product(_ w: [Float], _ b: [Float], m: Int, k: Int, n: Int, bias: [Float]?, relu: Bool,
                 panels: [Range<Int>]? = nil, columns: [Range<Int>]? = nil) -> [Float] {
        let packed = w.withUnsafeBufferPointer { PanelGEMM.pack($0.baseAddress!, rows: m, depth: k) }
        var y = [Float](repeating: .nan, count: m * n)
        let allPanels = 0..<PanelGEMM.panels(rows: m)
        for rows in panels ?? [allPanels] {
            for cols in columns ?? [0..<n] {
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: PanelGEMM.scratchCount(panels: rows.count, columns: cols.count))
                defer { scratch.deallocate() }
                packed.withUnsafeBufferPointer { p in b.withUnsafeBufferPointer { bb in y.withUnsafeMutableBufferPointer { yb in
                (bias ?? []).withUnsafeBufferPointer { biasBuffer in
                    PanelGEMM.multiply(p.baseAddress!, rows: m, depth: k, panels: rows, b: bb.baseAddress! + cols.lowerBound, ldb: n,
                                       columns: cols.count, y: yb.baseAddress! + cols.lowerBound, ldy: n,
                                       bias: bias == nil ? nil : biasBuffer.baseAddress,
                                       activation: ck_activation(kind: Int32(relu ? CK_RELU : CK_IDENTITY), lo: 0, hi: 0, residual: 0), scratch: scratch)
                }}}}
            }
        }
        return y
    }

    func testEqualsFloat64SumsOnEveryShape() {
        // Rows around a panel (32), depths around a block (256), columns around a tile
        // (14) and a column block (256).
        for (m, k, n) in [(1, 1, 1), (31, 5, 13), (32, 7, 14), (33, 300, 15), (70, 257, 49), (64, 600, 196), (40, 40, 257), (96, 3, 300)] {
            let w = Tensor.seededUniform([m * k], seed: 1).data, b = Tensor.seededUniform([k * n], seed: 2).data
            let bias = Tensor.seededUniform([m], seed: 3).data
            for (withBias, relu) in [(false, false), (true, false), (true, true)] {
                let y = product(w, b, m: m, k: k, n: n, bias: withBias ? bias : nil, relu: relu)
                var worst = 0.0
                for r in 0..<m {
                    for c in 0..<n {
                        var sum = 0.0, magnitude = 0.0
                        for i in 0..<k { sum += Double(w[r * k + i]) * Double(b[i * n + c]); magnitude += abs(Double(w[r * k + i]) * Double(b[i * n + c])) }
                        if withBias { sum += Double(bias[r]); magnitude += abs(Double(bias[r])) }
                        if relu { sum = max(0, sum) }
                        // A float32 sum of k terms: at most about k ulps of the sum of magnitudes.
                        worst = max(worst, abs(Double(y[r * n + c]) - sum) / (magnitude * Double(k + 1) * 6e-8))
                    }
                }
                XCTAssertLessThan(worst, 1, "\(m)x\(k)x\(n) bias \(withBias) relu \(relu)")
            }
        }
    }

    /// The sum's order, exactly: blocks of CK_DEPTH_BLOCK terms, each from zero by fused
    /// multiply-adds, added in order, then the bias (blocked summation: one chain over a
    /// VGG-11's 4,608-term products put its gradients 1.4e-2 from float64, blocks 9.4e-7).
    func testSumsInDepthBlocks() {
        let (m, k, n) = (3, 700, 5)
        let w = Tensor.seededUniform([m * k], seed: 17).data, b = Tensor.seededUniform([k * n], seed: 18).data
        let bias = Tensor.seededUniform([m], seed: 19).data
        let y = product(w, b, m: m, k: k, n: n, bias: bias, relu: false)
        let block = Int(CK_DEPTH_BLOCK)
        for r in 0..<m {
            for c in 0..<n {
                var total: Float = 0
                for start in stride(from: 0, to: k, by: block) {
                    var partial: Float = 0
                    for i in start..<min(k, start + block) { partial.addProduct(w[r * k + i], b[i * n + c]) }
                    total = start == 0 ? partial : total + partial
                }
                XCTAssertEqual(y[r * n + c].bitPattern, (total + bias[r]).bitPattern, "row \(r), column \(c)")
            }
        }
    }

    /// Rows cut into panels and columns cut anywhere: the same bytes as one call.
    func testAnySplitGivesTheSameBytes() {
        let (m, k, n) = (100, 520, 300)
        let w = Tensor.seededUniform([m * k], seed: 4).data, b = Tensor.seededUniform([k * n], seed: 5).data
        let bias = Tensor.seededUniform([m], seed: 6).data
        let whole = product(w, b, m: m, k: k, n: n, bias: bias, relu: true)
        XCTAssertFalse(whole.contains { $0.isNaN })
        let split = product(w, b, m: m, k: k, n: n, bias: bias, relu: true, panels: [0..<1, 1..<3, 3..<4], columns: [0..<1, 1..<50, 50..<299, 299..<300])
        XCTAssertEqual(whole, split)
    }

    /// `W^T` packed straight from `W` equals the explicit transpose packed.
    func testTransposedPackingEqualsPackingTheTranspose() {
        for (rows, depth) in [(1, 1), (31, 7), (33, 64), (288, 40)] {
            let w = Tensor.seededUniform([depth * rows], seed: 14).data  // [depth, rows]
            let transpose = (0..<(rows * depth)).map { w[($0 % depth) * rows + $0 / depth] }  // [rows, depth]
            let direct = w.withUnsafeBufferPointer { PanelGEMM.packTransposed($0.baseAddress!, rows: rows, depth: depth) }
            XCTAssertEqual(direct, transpose.withUnsafeBufferPointer { PanelGEMM.pack($0.baseAddress!, rows: rows, depth: depth) }, "\(rows)x\(depth)")
        }
    }

    /// The input gradient of small maps on `W^T`'s panels: the direct loops' values,
    /// OpenBLAS's within rounding, the same bytes on any number of workers.
    func testInputGradientOnTransposedPanels() throws {
        for (cin, cout, k, s, hw) in [(64, 48, 3, 1, 7), (40, 70, 3, 1, 14), (96, 32, 1, 1, 7), (33, 20, 3, 2, 13)] {
            let layer = conv(cin, cout, kernel: k, stride: s, padding: k / 2)
            layer.accumulatesParameterGradients = false
            let x = Tensor.seededUniform([1, cin, hw, hw], seed: 15)
            XCTAssertTrue(layer.runsSmallMaps(layer.geometry(x.shape), samples: 1))
            let y = layer.forward(x, mode: .evaluationWithGradients)
            let dy = Tensor.seededUniform(y.shape, seed: 16)
            let expected = Conv2D.referenceBackward(x, weight: layer.weight.value, gradOutput: dy, window: layer.window).input
            Parallel.workers = 1
            let one = try XCTUnwrap(layer.backward(dy, needsInputGradient: true))
            XCTAssertNotNil(layer.transposedPanelCache, "took W^T's panels")
            XCTAssertLessThan(relativeError(one, expected), 2e-6, "\(cin)->\(cout) \(k)x\(k) s\(s)")
            for workers in [2, 3, 8] {
                Parallel.workers = workers
                XCTAssertEqual(try XCTUnwrap(layer.backward(dy, needsInputGradient: true)).data, one.data, "\(workers) workers")
            }
            layer.usesPanelGEMM = false
            XCTAssertLessThan(relativeError(try XCTUnwrap(layer.backward(dy, needsInputGradient: true)), one), 2e-6, "OpenBLAS")
        }
    }

    /// The row kernel (weight as stored, vectorized along the columns) and its taps variant
    /// (rows found by offsets: stems) compute the same sums in the same order as the panel
    /// kernel: the same bytes, with every activation.
    func testRowKernelGivesThePanelKernelsBytes() {
        let activations = [ck_activation(kind: Int32(CK_IDENTITY), lo: 0, hi: 0, residual: 0), ck_activation(kind: Int32(CK_RELU), lo: 0, hi: 0, residual: 0),
                           ck_activation(kind: Int32(CK_CLIP), lo: -0.5, hi: 0.5, residual: 0)]
        // (17, 24, 1568) and (9, 40, 1100): long rows of few channels, rows outside.
        for (m, k, n) in [(1, 1, 1), (5, 3, 17), (6, 16, 64), (7, 300, 65), (13, 40, 196), (40, 9, 200), (17, 24, 1568), (9, 40, 1100)] {
            let w = Tensor.seededUniform([m * k], seed: 11).data, b = Tensor.seededUniform([k * n], seed: 12).data
            let bias = Tensor.seededUniform([m], seed: 13).data
            let packed = w.withUnsafeBufferPointer { PanelGEMM.pack($0.baseAddress!, rows: m, depth: k) }
            for activation in activations {
                var panel = [Float](repeating: .nan, count: m * n), rows = [Float](repeating: .nan, count: m * n)
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: PanelGEMM.scratchCount(panels: PanelGEMM.panels(rows: m), columns: n))
                defer { scratch.deallocate() }
                packed.withUnsafeBufferPointer { p in w.withUnsafeBufferPointer { wb in b.withUnsafeBufferPointer { bb in bias.withUnsafeBufferPointer { biasBuffer in
                    PanelGEMM.multiply(p.baseAddress!, rows: m, depth: k, panels: 0..<PanelGEMM.panels(rows: m), b: bb.baseAddress!, ldb: n, columns: n,
                                       y: &panel, ldy: n, bias: biasBuffer.baseAddress, activation: activation, scratch: scratch)
                    PanelGEMM.multiplyRows(wb.baseAddress!, rows: m, depth: k, ldw: k, x: bb.baseAddress!, ldx: n, columns: n,
                                           y: &rows, ldy: n, bias: biasBuffer.baseAddress, activation: activation)
                }}}}
                XCTAssertFalse(rows.contains { $0.isNaN }, "\(m)x\(k)x\(n): every output written")
                XCTAssertEqual(rows.map(\.bitPattern), panel.map(\.bitPattern), "\(m)x\(k)x\(n) activation \(activation.kind)")
                // The taps variant, with B's rows stored in reverse and found by offsets.
                let reversed = (0..<k).flatMap { t in b[((k - 1 - t) * n)..<((k - t) * n)] }
                let offsets = (0..<k).map { Int32((k - 1 - $0) * n) }
                var taps = [Float](repeating: .nan, count: m * n)
                w.withUnsafeBufferPointer { wb in reversed.withUnsafeBufferPointer { rb in offsets.withUnsafeBufferPointer { ob in bias.withUnsafeBufferPointer { biasBuffer in
                    PanelGEMM.multiplyTaps(wb.baseAddress!, rows: m, depth: k, ldw: k, x: rb.baseAddress!, offsets: ob.baseAddress!, columns: n,
                                           y: &taps, ldy: n, bias: biasBuffer.baseAddress, activation: activation)
                }}}}
                XCTAssertEqual(taps.map(\.bitPattern), rows.map(\.bitPattern), "\(m)x\(k)x\(n): taps")
            }
        }
    }

    func conv(_ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) -> Conv2D {
        var rng = SeededGenerator(seed: 11)
        return Conv2D(name: "c", inputChannels: cin, outputChannels: cout,
                      window: Window2D(kernel: Pair(kernel), stride: Pair(stride), padding: Pair(padding)), bias: bias, rng: &rng)
    }

    func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        let scale = b.data.map(abs).max() ?? 1
        return zip(a.data, b.data).map { abs($0 - $1) }.max()! / max(scale, 1e-12)
    }

    /// Small maps, stems and 1x1 layers on the panel and row kernels: the direct loops' values,
    /// OpenBLAS's within rounding, the same bytes on any number of workers.
    func testConvolutionPathsOnThePanelKernel() {
        let cases: [(cin: Int, cout: Int, k: Int, s: Int, p: Int, n: Int, hw: Int, path: String)] = [
            (64, 96, 3, 1, 1, 1, 7, "small maps"), (40, 520, 3, 1, 1, 1, 7, "small maps, three blocks"),
            (24, 40, 3, 2, 1, 2, 20, "small maps, strided"), (48, 33, 1, 1, 0, 1, 14, "small maps, 1x1"),
            (3, 64, 7, 2, 3, 1, 80, "stem"), (3, 20, 3, 2, 1, 2, 70, "stem"),
            (24, 144, 1, 1, 0, 1, 28, "pointwise"), (70, 30, 1, 1, 0, 3, 20, "pointwise"), (16, 64, 1, 1, 0, 16, 8, "pointwise, batch 16"),
            (64, 96, 1, 2, 0, 2, 46, "pointwise, stride 2"), (20, 40, 1, 3, 0, 1, 70, "pointwise, stride 3"),
            (48, 40, 1, 2, 0, 1, 28, "pointwise, stride 2, 14x14: small maps"),
            (48, 40, 1, 2, 0, 6, 28, "pointwise, stride 2, 14x14, a batch too large for small maps: row kernel"),
        ]
        for c in cases {
            for relu in [false, true] {
                let layer = conv(c.cin, c.cout, kernel: c.k, stride: c.s, padding: c.p, bias: c.cout != 33)
                layer.rectifiesOutput = relu
                let x = Tensor.seededUniform([c.n, c.cin, c.hw, c.hw], seed: 7)
                var reference = Conv2D.referenceForward(x, weight: layer.weight.value, bias: layer.bias?.value, window: layer.window)
                if relu { reference.data = reference.data.map { max(0, $0) } }
                Parallel.workers = 1
                let one = layer.forward(x, mode: .evaluation)
                // 1x1 layers (any stride) with 128 output pixels and more take the row kernel, and stems its
                // tap variant (nothing packed).
                let side = (c.hw + 2 * c.p - c.k) / c.s + 1, pixels = side * side
                // Strided: from `rowGEMMStridedPixels` on, or from `rowGEMMPixels` on when the
                // batch is too large for small maps.
                let smallMaps = c.n * pixels <= Conv2D.smallMapStridedPixels
                let pointwiseRows = c.k == 1 && (c.s == 1 ? pixels >= Conv2D.rowGEMMPixels
                    : pixels >= Conv2D.rowGEMMStridedPixels || (pixels >= Conv2D.rowGEMMPixels && !smallMaps))
                XCTAssertEqual(layer.forwardPath(layer.geometry(x.shape), samples: c.n, mode: .evaluation) == .rowGEMM, pointwiseRows, "\(c.path)")
                let rows = pointwiseRows || c.path == "stem"
                XCTAssertEqual(layer.panelWeightCache == nil, rows, "\(c.path): took the \(rows ? "row" : "panel") kernel")
                XCTAssertLessThan(relativeError(one, reference), 2e-6, "\(c)")
                for workers in [2, 3, 8] {
                    Parallel.workers = workers
                    XCTAssertEqual(layer.forward(x, mode: .evaluation).data, one.data, "\(c), \(workers) workers")
                }
                layer.usesPanelGEMM = false
                XCTAssertLessThan(relativeError(layer.forward(x, mode: .evaluation), one), 2e-6, "\(c): OpenBLAS")
            }
        }
    }

    /// The packed weight is kept between inference calls and renewed when the weight
    /// changes; training keeps none.
    func testPackedWeightFollowsTheWeight() {
        let layer = conv(32, 64, kernel: 3, padding: 1)
        let x = Tensor.seededUniform([1, 32, 7, 7], seed: 8)
        let before = layer.forward(x, mode: .evaluation)
        XCTAssertEqual(layer.panelWeightCache?.panels.count, 64 * 32 * 9)
        layer.weight.value = Tensor(shape: layer.weight.value.shape, data: layer.weight.value.data.map { -$0 })
        let after = layer.forward(x, mode: .evaluation)
        let reference = Conv2D.referenceForward(x, weight: layer.weight.value, bias: layer.bias?.value, window: layer.window)
        XCTAssertLessThan(relativeError(after, reference), 2e-6)
        XCTAssertNotEqual(after.data, before.data)
        _ = layer.forward(x, mode: .training)
        XCTAssertNil(layer.panelWeightCache)
    }
}

/// After a pure inference pass on the panel kernel the weight as stored is released and
/// the panels are the one copy; reading it gives back the same floats, and gradients and
/// other paths still see it.
final class PanelWeightReleaseTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(PanelGEMM.isAvailable, "the CPU has no AVX-512 (or CONVVIZ_PANEL_GEMM=0): nothing is packed here")
    }

    func testReleasedWeightComesBackExactlyAndStaysAfterARead() {
        var rng = SeededGenerator(seed: 3)
        let layer = Conv2D(name: "c", inputChannels: 20, outputChannels: 70, window: Window2D(kernel: Pair(3), padding: Pair(1)), rng: &rng)
        let original = layer.weight.value.data, version = layer.weight.version
        let x = Tensor.seededUniform([1, 20, 7, 7], seed: 4)
        let first = layer.forward(x, mode: .evaluation)
        XCTAssertTrue(layer.weight.isReleased, "one copy after an inference pass")
        XCTAssertEqual(layer.forward(x, mode: .evaluation).data, first.data, "the panels alone compute the same output")
        XCTAssertEqual(layer.weight.value.data, original, "unpacked exactly")
        XCTAssertEqual(layer.weight.version, version, "a release and a read are no change")
        XCTAssertFalse(layer.weight.isReleased)
        _ = layer.forward(x, mode: .evaluation)
        XCTAssertFalse(layer.weight.isReleased, "read once, kept: passes of both kinds do not repack in turn")
        // A recording pass and its gradient against the direct loops' weight.
        let other = Conv2D(name: "c", inputChannels: 20, outputChannels: 70, window: Window2D(kernel: Pair(3), padding: Pair(1)), rng: &rng)
        other.weight.value = Tensor(shape: layer.weight.value.shape, data: original)
        _ = other.forward(x, mode: .evaluation)
        XCTAssertTrue(other.weight.isReleased)
        other.weight.value.data[0] += 1  // an in-place change of a released weight restores it first
        XCTAssertEqual(Array(other.weight.value.data.dropFirst()), Array(original.dropFirst()))
        XCTAssertEqual(other.weight.value.data[0], original[0] + 1)
        let changed = other.forward(x, mode: .evaluation)
        let reference = Conv2D.referenceForward(x, weight: other.weight.value, bias: other.bias?.value, window: other.window)
        XCTAssertLessThan(zip(changed.data, reference.data).map { abs($0 - $1) }.max()!, 1e-4)
    }
}
