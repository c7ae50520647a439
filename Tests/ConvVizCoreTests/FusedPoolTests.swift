import XCTest
@testable import ConvVizCore

/// A max pool run inside the convolution before it (`Graph.fusingPools`, `Conv2D.pooling`):
/// the stem pools each block of its rows while they are in cache; every path gives the
/// bytes of the convolution and then the pool, on 1, 2, 3 and 8 workers.
final class FusedPoolTests: XCTestCase {
    override func tearDown() { Parallel.workers = ProcessInfo.processInfo.activeProcessorCount }

    func testAPoolInsideAConvolutionGivesTheBytesOfThePoolAfter() {
        // (channels in, out, conv kernel, conv padding, conv stride, batch, height, width, pool kernel, stride, padding rows, columns, ceil mode)
        let cases: [(Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Bool)] = [
            // Stems at batches too large for small maps (more than 1,024 output pixels).
            (3, 16, 7, 3, 2, 2, 70, 66, 3, 2, 1, 1, false),  // ResNet's stem and pool, rows that do not divide
            (3, 8, 3, 1, 2, 2, 61, 50, 3, 2, 0, 0, false),
            (1, 12, 5, 2, 2, 3, 41, 39, 5, 2, 2, 2, false),
            (4, 6, 3, 1, 2, 3, 40, 37, 3, 1, 1, 1, false),
            (3, 8, 3, 1, 2, 3, 44, 45, 3, 2, 0, 1, true),    // ceil mode, padding on the columns only
            (3, 8, 3, 1, 2, 3, 45, 44, 2, 2, 1, 0, true),    // padding on the rows only
            (8, 16, 3, 1, 1, 2, 20, 19, 3, 2, 1, 1, false),  // not a stem: convolution, then the pool
        ]
        for (cin, cout, k, p, s, n, h, w, pk, ps, ph, pw, ceil) in cases {
            var rng = SeededGenerator(seed: UInt64(k * 10 + cin))
            let conv = Conv2D(name: "c", inputChannels: cin, outputChannels: cout, window: Window2D(kernel: Pair(k), stride: Pair(s), padding: Pair(p)), rng: &rng)
            let pool = MaxPool2D(name: "pool", window: Window2D(kernel: Pair(pk), stride: Pair(ps), padding: Pair(ph, pw), ceilMode: ceil))
            let stem = cin <= 4
            if stem && PanelGEMM.isAvailable {
                XCTAssertEqual(conv.forwardPath(conv.geometry([n, cin, h, w]), samples: n, mode: .evaluation), .stem, "the pooled stem path")
            }
            var x = Tensor.seededUniform([n, cin, h, w], seed: UInt64(h))
            x.data[5 * w + 9] = .nan  // a NaN wins its windows either way
            for rectified in [false, true] {
                conv.rectifiesOutput = rectified
                let expected = pool.forward(conv.forward(x, mode: .evaluation), mode: .evaluation)
                for workers in [1, 2, 3, 8] {
                    Parallel.workers = workers
                    conv.pooling = pool
                    let y = conv.forward(x, mode: .evaluation)
                    XCTAssertNil(conv.pooling, "one call")
                    XCTAssertEqual(y.shape, expected.shape)
                    XCTAssertEqual(y.data.map(\.bitPattern), expected.data.map(\.bitPattern), "\(cin) \(k)x\(k) pool \(pk) on \(workers)")
                }
            }
            conv.rectifiesOutput = false
        }
    }

    /// In a graph: conv, ReLU, pool fuse; the outputs are the same bytes, a recording pass
    /// runs them apart (same values), and a pass that keeps the convolution's output or
    /// stops at the ReLU gets the unpooled map.
    func testTheGraphFusesAConvolutionReLUAndPool() throws {
        let json = """
        {"name": "stem", "input": [3, 45, 43], "layers": [
          {"type": "conv", "name": "conv1", "out": 8, "kernel": 7, "stride": 2, "padding": 3},
          {"type": "relu", "name": "relu"},
          {"type": "maxpool", "name": "pool", "kernel": 3, "stride": 2, "padding": 1},
          {"type": "conv", "name": "conv2", "out": 4, "kernel": 3, "padding": 1},
          {"type": "maxpool", "name": "pool2", "kernel": 2}
        ]}
        """
        let plain = try Architecture(json: Data(json.utf8)).makeGraph(seed: 3)
        let graph = try Architecture(json: Data(json.utf8)).makeGraph(seed: 3)
        graph.fusingActivations()
        XCTAssertEqual(graph.fusedPoolCount, 1, "a 2x2 stride-2 pool keeps its own loop")
        let x = Tensor.seededUniform([2, 3, 45, 43], seed: 8)
        let expected = plain.output(x)
        XCTAssertEqual(graph.output(x).data.map(\.bitPattern), expected.data.map(\.bitPattern))
        XCTAssertEqual(graph.output(x, mode: .evaluationWithGradients).data, expected.data)
        XCTAssertEqual(graph.output(x).data.map(\.bitPattern), expected.data.map(\.bitPattern))
        let kept = graph.forward(x, mode: .evaluation, keep: [0])
        XCTAssertEqual(kept[0]!.shape, [2, 8, 23, 22], "the convolution's own output")
        XCTAssertEqual(kept[4]!.data, expected.data)
        XCTAssertEqual(graph.output(x, through: 1).data, plain.output(x, through: 1).data, "stopped at the ReLU")
        XCTAssertEqual(graph.output(x, through: 2).data, plain.output(x, through: 2).data)
    }
}
