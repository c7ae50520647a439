import XCTest
@testable import ConvVizCore

/// Inference on small batches of small maps (issue 27, `Conv2D+SmallMaps`): equal to the
/// direct loops within float rounding, the same bytes on 1, 2, 3 and 8 workers, with
/// bias, padding, stride and a fused ReLU; training never takes it.
final class SmallMapConvolutionTests: XCTestCase {
    override func tearDown() { Parallel.workers = ProcessInfo.processInfo.activeProcessorCount }

    func random(_ shape: [Int], seed: UInt64) -> Tensor { .seededUniform(shape, seed: seed) }

    func layer(_ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, padding: Int) -> Conv2D {
        var rng = SeededGenerator(seed: 9)
        return Conv2D(name: "c", inputChannels: cin, outputChannels: cout,
                      window: Window2D(kernel: Pair(kernel), stride: Pair(stride), padding: Pair(padding)), rng: &rng)
    }

    /// Largest |a - b| over the largest |b|.
    func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        let scale = b.data.map(abs).max() ?? 1
        return zip(a.data, b.data).map { abs($0 - $1) }.max()! / max(scale, 1e-12)
    }

    func testEqualsTheDirectLoops() throws {
        let cases: [(cin: Int, cout: Int, k: Int, s: Int, p: Int, n: Int, hw: Int)] = [
            (16, 20, 3, 1, 1, 1, 7), (12, 10, 1, 1, 0, 3, 7), (8, 12, 3, 1, 1, 1, 14), (6, 8, 5, 1, 2, 2, 9), (5, 9, 3, 1, 0, 1, 16),
            // Stride 2 (ResNet's first layer of a stage, its 1x1 shortcut) and stride 3.
            (16, 24, 3, 2, 1, 1, 14), (16, 24, 1, 2, 0, 2, 14), (7, 5, 3, 3, 1, 1, 20),
            // Stride-2 rows of 8 and more (gathered eight at a time), up to 1024 pixels.
            (12, 10, 3, 2, 1, 1, 40), (20, 6, 1, 2, 0, 1, 35), (3, 4, 7, 2, 3, 1, 61),
            // More than 256 output channels: three blocks of the forward product, not two.
            (8, 600, 3, 1, 1, 1, 7),
            // Maps of 1x1 and 2x2 outputs with many channels (squeeze-excitation's 1x1
            // layers): each channel's unrolled run is shorter than the vector copy's overrun.
            (96, 24, 1, 1, 0, 1, 1), (80, 16, 3, 1, 1, 1, 2), (64, 8, 1, 1, 0, 1, 3),
        ]
        for c in cases {
            let conv = layer(c.cin, c.cout, kernel: c.k, stride: c.s, padding: c.p)
            let x = random([c.n, c.cin, c.hw, c.hw], seed: 1)
            XCTAssertTrue(conv.runsSmallMaps(conv.geometry(x.shape), samples: c.n), "\(c)")
            let y = conv.forward(x, mode: .evaluation)
            let reference = Conv2D.referenceForward(x, weight: conv.weight.value, bias: conv.bias?.value, window: conv.window)
            XCTAssertEqual(y.shape, reference.shape)
            // Float sums of up to 150 products against the direct loop: rounding only.
            XCTAssertLessThan(relativeError(y, reference), 1e-5, "\(c)")
        }
    }

    /// The patch matrix unrolled on all cores equals the one unrolled on one, whatever
    /// the parts' boundaries cut (runs of 1 to 20 floats, so overruns of up to 15), and
    /// parts run last to first (the order a core may take them in) write only their own
    /// rows: the same matrix.
    func testUnrollOnAllCoresEqualsTheSerialUnroll() {
        for (c, k, hw) in [(96, 1, 1), (70, 3, 2), (50, 1, 3), (33, 3, 5), (40, 1, 14), (24, 3, 20)] {
            let window = Window2D(kernel: Pair(k), padding: Pair(k / 2))
            let g = Im2Col.Geometry(channels: c, height: hw, width: hw, window: window, outHeight: hw, outWidth: hw)
            let x = random([c, hw, hw], seed: 9)
            let count = g.rows * g.outPlane + Im2Col.slack
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: g.paddedCount + Im2Col.slack)
            defer { padded.deallocate() }
            padded.initialize(repeating: 0, count: g.paddedCount + Im2Col.slack)
            var serial = [Float](repeating: 0, count: count)
            x.data.withUnsafeBufferPointer { xb in
                Im2Col.padPlanar(xb.baseAddress!, g, into: padded)
                Im2Col.unrollChannelMajor(padded, g, into: &serial)
                for workers in [2, 3, 8] {
                    Parallel.workers = workers
                    var parallel = [Float](repeating: .nan, count: count)
                    Im2Col.unrollChannelMajorOnAllCores(xb.baseAddress!, g, into: &parallel)
                    XCTAssertTrue(Array(parallel[..<(count - Im2Col.slack)]) == Array(serial[..<(count - Im2Col.slack)]),
                                  "\(c) channels, \(k)x\(k), \(hw)x\(hw), \(workers) workers")
                }
                for parts in [2, 3, 7] {
                    var backwards = [Float](repeating: .nan, count: count)
                    for p in (0..<parts).reversed() {
                        Im2Col.unrollChannels(c * p / parts..<c * (p + 1) / parts, xb.baseAddress!, g, into: &backwards)
                    }
                    XCTAssertTrue(Array(backwards[..<(count - Im2Col.slack)]) == Array(serial[..<(count - Im2Col.slack)]),
                                  "\(c) channels, \(k)x\(k), \(hw)x\(hw), \(parts) parts last to first")
                }
            }
        }
    }

    func testTheSameBytesOnAnyNumberOfWorkers() throws {
        let conv = layer(64, 100, kernel: 3, padding: 1)
        conv.rectifiesOutput = true
        let x = random([2, 64, 7, 7], seed: 2)
        let outputs = [1, 2, 3, 8].map { workers -> [Float] in Parallel.workers = workers; return conv.forward(x, mode: .evaluation).data }
        for o in outputs.dropFirst() { XCTAssertTrue(o == outputs[0]) }
        XCTAssertEqual(outputs[0].min(), 0, "the fused ReLU ran")
    }

    func testOnlyInferenceOnSmallBatchesOfSmallMapsTakesIt() throws {
        let conv = layer(64, 64, kernel: 3, padding: 1)
        XCTAssertFalse(conv.runsSmallMaps(conv.geometry([8, 64, 7, 7]), samples: 8), "392 pixels")
        XCTAssertEqual(conv.runsSmallMaps(conv.geometry([8, 64, 7, 7]), samples: 8, forward: true), conv.runsPanelGEMM, "392 pixels, panel kernel")
        XCTAssertFalse(conv.runsSmallMaps(conv.geometry([32, 64, 7, 7]), samples: 32, forward: true), "1,568 pixels")
        XCTAssertFalse(conv.runsSmallMaps(conv.geometry([1, 64, 28, 28]), samples: 1))
        let strided = layer(64, 64, kernel: 3, stride: 2, padding: 1)
        XCTAssertTrue(strided.runsSmallMaps(strided.geometry([1, 64, 14, 14]), samples: 1), "stride 2: 49 pixels")
        XCTAssertTrue(strided.runsSmallMaps(strided.geometry([1, 64, 56, 56]), samples: 1), "stride 2: 784 pixels")
        XCTAssertFalse(strided.runsSmallMaps(strided.geometry([2, 64, 56, 56]), samples: 2), "stride 2: 1568 pixels")
        let x = random([1, 64, 7, 7], seed: 3)
        let fast = conv.forward(x, mode: .evaluation)
        conv.usesSmallMapPath = false
        let usual = conv.forward(x, mode: .evaluation)
        XCTAssertLessThan(relativeError(fast, usual), 1e-5)
        // Training keeps its own path: its bytes do not change with this one.
        conv.usesSmallMapPath = true
        let trained = conv.forward(x, mode: .training)
        XCTAssertTrue(trained.data == usual.data)
    }

    typealias Case = (cin: Int, cout: Int, k: Int, s: Int, p: Int, n: Int, hw: Int)

    /// Each case's input gradient alone (no weight gradients, after a recording pass)
    /// against the direct loops, the same bytes on 1, 2, 3 and 8 workers; `path` says
    /// which path the case must take.
    func checkInputGradients(_ cases: [Case], path: (Conv2D, Im2Col.Geometry, Int) -> Bool) throws {
        for c in cases {
            let conv = layer(c.cin, c.cout, kernel: c.k, stride: c.s, padding: c.p)
            conv.accumulatesParameterGradients = false
            let x = random([c.n, c.cin, c.hw, c.hw], seed: 4)
            XCTAssertTrue(path(conv, conv.geometry(x.shape), c.n), "\(c)")
            let y = conv.forward(x, mode: .evaluationWithGradients)
            let dy = random(y.shape, seed: 5)
            let dxs = try [1, 2, 3, 8].map { workers -> Tensor in
                Parallel.workers = workers
                return try XCTUnwrap(conv.backward(dy, needsInputGradient: true))
            }
            for dx in dxs.dropFirst() { XCTAssertTrue(dx.data == dxs[0].data, "\(c)") }
            let reference = Conv2D.referenceBackward(x, weight: conv.weight.value, gradOutput: dy, window: conv.window).input
            XCTAssertEqual(dxs[0].shape, reference.shape)
            XCTAssertLessThan(relativeError(dxs[0], reference), 1e-5, "\(c)")
        }
    }

    /// Small maps (`inputGradientSmallMaps`): strides 1, 2 and 3, uneven channel blocks,
    /// two samples, strided layers up to 1024 output pixels. Training's backward (with weight gradients) keeps its own path.
    func testInputGradientAfterARecordingPass() throws {
        try checkInputGradients([(32, 48, 3, 1, 1, 1, 7), (19, 24, 3, 2, 1, 2, 14), (16, 24, 1, 2, 0, 1, 14), (7, 5, 3, 3, 1, 1, 20), (6, 8, 5, 1, 2, 1, 9),
                                 (10, 12, 3, 2, 1, 2, 36), (9, 20, 1, 2, 0, 1, 34)]) {
            $0.runsSmallMaps($1, samples: $2)
        }
        // With weight gradients (training's backward) the usual path runs: same bytes as
        // with the small-map path off.
        let conv = layer(32, 48, kernel: 3, padding: 1)
        let x = random([1, 32, 7, 7], seed: 4), dy = random([1, 48, 7, 7], seed: 5)
        _ = conv.forward(x, mode: .training)
        let dx = try XCTUnwrap(conv.backward(dy, needsInputGradient: true))
        conv.usesSmallMapPath = false
        _ = conv.forward(x, mode: .training)
        XCTAssertTrue(try XCTUnwrap(conv.backward(dy, needsInputGradient: true)).data == dx.data)
    }

    /// Larger maps at a small batch (`inputGradientSmallBatch`): a stem with 3 channels,
    /// 7x7 stride 2; a stride-2 3x3 layer; a 1x1 shortcut; uneven pixel and channel blocks.
    func testSmallBatchInputGradientOfLargerMaps() throws {
        try checkInputGradients([(3, 16, 7, 2, 3, 1, 70), (10, 12, 3, 2, 1, 2, 48), (9, 20, 1, 2, 0, 1, 66), (5, 6, 5, 1, 2, 1, 19)]) {
            !$0.runsSmallMaps($1, samples: $2) && !$0.runsWinograd($1) && $0.runsSmallBatchInputGradient($1, samples: $2)
        }
    }

    /// A short, wide map with one channel and padding 2: the fold's row blocks are one
    /// row high, and the first and last lie wholly in the padding.
    func testInputGradientOfAShortMapWithWidePadding() throws {
        let conv = layer(1, 8, kernel: 5, padding: 2)
        conv.accumulatesParameterGradients = false
        let x = random([1, 1, 4, 80], seed: 10)
        XCTAssertTrue(!conv.runsSmallMaps(conv.geometry(x.shape), samples: 1) && conv.runsSmallBatchInputGradient(conv.geometry(x.shape), samples: 1))
        let y = conv.forward(x, mode: .evaluationWithGradients)
        let dy = random(y.shape, seed: 11)
        let dx = try XCTUnwrap(conv.backward(dy, needsInputGradient: true))
        let reference = Conv2D.referenceBackward(x, weight: conv.weight.value, gradOutput: dy, window: conv.window).input
        XCTAssertLessThan(relativeError(dx, reference), 1e-5)
    }

    /// A channel's fold in blocks of padded rows (a stem's input gradient, shared by the
    /// cores) gives the bytes of the whole channel's fold, for strides 1, 2 and 3 and
    /// blocks that cut through a kernel's rows.
    func testFoldInRowBlocksEqualsTheWholeFold() {
        for (k, s, p, hw) in [(7, 2, 3, 37), (3, 1, 1, 20), (5, 3, 2, 23), (3, 2, 0, 18)] {
            let window = Window2D(kernel: Pair(k), stride: Pair(s), padding: Pair(p))
            let out = (hw + 2 * p - k) / s + 1
            let g = Im2Col.Geometry(channels: 2, height: hw, width: hw, window: window, outHeight: out, outWidth: out)
            let cols = random([g.rows * g.outPlane + Im2Col.slack], seed: 6)
            let scratchCount = g.paddedCount + Im2Col.slack
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            var whole = [Float](repeating: 0, count: 2 * hw * hw), blocked = whole
            cols.data.withUnsafeBufferPointer { c in
                Im2Col.foldChannels(c.baseAddress!, g, count: 2, scratch: scratch, into: &whole)
                // Blocks of 5 rows, and of 1 (blocks wholly in the padding).
                for size in [5, 1] {
                    blocked = [Float](repeating: .nan, count: 2 * hw * hw)
                    for channel in 0..<2 {
                        for lo in stride(from: 0, to: g.paddedHeight, by: size) {
                            scratch.initialize(repeating: .nan, count: scratchCount)  // rows outside the block are never read
                            blocked.withUnsafeMutableBufferPointer { b in
                                Im2Col.foldRows(c.baseAddress! + channel * k * k * g.outPlane, g, rows: lo..<min(g.paddedHeight, lo + size),
                                                scratch: scratch, into: b.baseAddress! + channel * hw * hw)
                            }
                        }
                    }
                    XCTAssertTrue(whole == blocked, "\(k)x\(k) stride \(s), blocks of \(size)")
                }
            }
            XCTAssertFalse(whole.contains { $0.isNaN })
        }
    }
}
