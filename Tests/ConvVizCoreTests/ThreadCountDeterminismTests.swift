import XCTest
@testable import ConvVizCore

/// The same inputs give the same bytes on any number of workers: sums over the batch
/// run over fixed slices (`BatchPartition`), GEMMs get the same operands, and OpenBLAS
/// runs single-threaded inside each worker.
final class ThreadCountDeterminismTests: XCTestCase {
    let workerCounts = [1, 2, 3, 8]

    override func tearDown() { Parallel.workers = ProcessInfo.processInfo.activeProcessorCount }

    /// Runs `body` with `Parallel.workers` set to each count in turn.
    func forEachWorkerCount<T>(_ body: () throws -> T) rethrows -> [T] {
        defer { Parallel.workers = ProcessInfo.processInfo.activeProcessorCount }
        return try workerCounts.map { Parallel.workers = $0; return try body() }
    }

    /// `gemmInFixedBlocks` gives the same bytes on 1, 2, 3 and 8 workers for each split and
    /// transpose (blocks with a short last one), and equals one whole product within float
    /// rounding (the blocks' shapes differ from the whole's, so not bit for bit).
    func testFixedBlockProductsAreBitIdenticalAndEqualTheWholeProduct() {
        var rng = SeededGenerator(seed: 5)
        let (m, n, k) = (70, 45, 300)
        let a = (0..<(m * k)).map { _ in rng.normal() }, b = (0..<(k * n)).map { _ in rng.normal() }
        for split in [BLAS.Split.rows, .columns] {
            for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
                let (lda, ldb) = (transA ? m : k, transB ? k : n)
                func product(_ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
                    var c = [Float](repeating: 0, count: m * n)
                    a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                        body(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!) } } }
                    return c
                }
                let blocked = forEachWorkerCount {
                    product { BLAS.gemmInFixedBlocks(split: split, blockSize: 16, transA: transA, transB: transB, m: m, n: n, k: k,
                                                     a: $0, lda: lda, b: $1, ldb: ldb, c: $2, ldc: n) }
                }
                for other in blocked.dropFirst() { XCTAssertEqual(other, blocked[0], "\(split) \(transA) \(transB)") }
                let whole = product { BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: $0, lda: lda, b: $1, ldb: ldb, c: $2, ldc: n) }
                let scale = whole.map(abs).max()!
                XCTAssertLessThan(zip(whole, blocked[0]).map { abs($0 - $1) }.max()!, 1e-5 * scale, "\(split) \(transA) \(transB)")
            }
        }
    }

    func testConvolutionGradientsAreBitIdentical() {
        // 1 channel takes the channel-major path; 24 channels the pixel-major one without
        // Winograd, and Winograd's 3x3 and 5x5 with it. A batch of 37 leaves a short last
        // slice and an uneven share for 3 and 8 workers.
        // A batch of 3 cuts each sample's tile rows into parts (Winograd's small batches).
        for (channels, kernel, winograd, n) in [(1, 3, true, 37), (24, 3, false, 37), (24, 3, true, 37), (24, 5, true, 37), (24, 3, true, 3)] {
            var rng = SeededGenerator(seed: 31)
            let conv = Conv2D(name: "c", inputChannels: channels, outputChannels: 16,
                              window: Window2D(kernel: Pair(kernel), padding: Pair(kernel / 2)), rng: &rng)
            conv.usesWinograd = winograd
            XCTAssertEqual(conv.runsWinograd(conv.geometry([n, channels, 12, 12])), winograd && channels > 1)
            let x = Tensor.normal(shape: [n, channels, 12, 12], using: &rng)
            let dy = Tensor.normal(shape: [n, 16, 12, 12], using: &rng)
            let results = forEachWorkerCount { () -> [[Float]] in
                conv.weight.grad.zero(); conv.bias!.grad.zero()
                let y = conv.forward(x, mode: .training)
                let dx = conv.backward(dy, needsInputGradient: true)!
                return [y.data, dx.data, conv.weight.grad.data, conv.bias!.grad.data]
            }
            XCTAssertGreaterThan(results[0][2].map(abs).max()!, 0, "weight gradient computed")
            for (count, r) in zip(workerCounts, results).dropFirst() {
                for (i, what) in ["output", "input gradient", "weight gradient", "bias gradient"].enumerated() {
                    XCTAssertEqual(r[i], results[0][i], "\(channels) channels, \(kernel)x\(kernel), batch \(n), \(count) workers: \(what) differs from 1 worker")
                }
            }
        }
    }

    func testTrainingStepsGiveTheSameParameters() throws {
        // Channel-major and pixel-major convolutions, a fused BatchNorm-ReLU-pool block,
        // a BatchNorm on its own and a linear layer; batch 20 in slices of 8, 8 and 4.
        let arch = Architecture(name: "mixed", input: [1, 12, 12], layers: [
            LayerSpec(.conv, out: 8, kernel: Pair(3), padding: Pair(1)), LayerSpec(.batchnorm), LayerSpec(.relu),
            LayerSpec(.maxpool, kernel: Pair(2)),
            LayerSpec(.conv, out: 16, kernel: Pair(3), padding: Pair(1)), LayerSpec(.batchnorm), LayerSpec(.relu),
            LayerSpec(.flatten), LayerSpec(.linear, out: 3),
        ])
        var rng = SeededGenerator(seed: 9)
        let x = Tensor.normal(shape: [20, 1, 12, 12], using: &rng)
        let labels = (0..<20).map { $0 % 3 }
        let initial = try arch.makeModel(seed: 2).namedParameters.map(\.parameter.value.data)
        let trained = try forEachWorkerCount { () -> [[Float]] in
            let model = try arch.makeModel(seed: 2)
            let sgd = try SGD(learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4)
            for _ in 0..<3 {
                let r = CrossEntropy.evaluate(logits: model.forward(x, mode: .training), targets: labels)
                model.zeroGradients()
                model.backward(r.gradient)
                sgd.step(model.layers.flatMap(\.parameters))
            }
            return model.namedParameters.map(\.parameter.value.data)
        }
        XCTAssertNotEqual(trained[0], initial, "training moved the parameters")
        for (count, parameters) in zip(workerCounts, trained).dropFirst() {
            XCTAssertEqual(parameters, trained[0], "\(count) workers: parameters differ from 1 worker")
        }
    }

    func testPartitionCoversTheBatchInFixedSlices() {
        let p = BatchPartition(samples: 20)
        XCTAssertEqual(p.slices, 3)
        XCTAssertEqual((0..<p.slices).map { p.range(ofSlice: $0) }, [0..<8, 8..<16, 16..<20])
        // Wide partial sums take larger slices, to stay within the budget.
        XCTAssertEqual(BatchPartition(samples: 128, partialsOf: 1000).samplesPerSlice, 8)
        let wide = BatchPartition(samples: 128, partialsOf: 1 << 20)
        XCTAssertEqual(wide.samplesPerSlice, 32)
        XCTAssertEqual(wide.slices * (1 << 20), 1 << 22)
        XCTAssertEqual(BatchPartition(samples: 128, partialsOf: 1 << 30).slices, 2, "two slices at least")
        XCTAssertEqual(BatchPartition(samples: 5, partialsOf: 1 << 30).slices, 1)
    }
}
