import CKernels
import XCTest
@testable import ConvVizCore

/// A residual addition run in the epilogue of the convolution before it (issue 27):
/// `Conv2D.residual`, the kernels' `ck_activation.residual`, and `Graph`'s fusion. Every
/// result is compared bit for bit with the convolution, then the addition, then its ReLU.
final class ResidualEpilogueTests: XCTestCase {
    override func tearDown() { Parallel.workers = ProcessInfo.processInfo.activeProcessorCount }

    /// The addition's rule, then ReLU's when asked: what the fused epilogues must equal.
    func added(_ output: Tensor, _ residual: Tensor, relu: Bool) -> [Float] {
        zip(output.data, residual.data).map { relu ? Vector.rectified($0 + $1) : $0 + $1 }
    }

    /// The row and panel kernels with Y holding a residual: the product, its bias, the
    /// residual, then the activation, the bytes of the product written first and the
    /// residual added after; depths of one and of several blocks (the row kernel then
    /// keeps its partial sums apart from Y).
    func testKernelsAddTheResidualInY() throws {
        try XCTSkipUnless(PanelGEMM.isAvailable, "the CPU has no AVX-512 (or CONVVIZ_PANEL_GEMM=0): the kernels never run here")
        for (m, k, n) in [(5, 3, 17), (13, 40, 196), (7, 300, 65), (9, 600, 140), (17, 24, 1568)] {
            let w = Tensor.seededUniform([m * k], seed: 21).data, b = Tensor.seededUniform([k * n], seed: 22).data
            let bias = Tensor.seededUniform([m], seed: 23).data
            var residual = Tensor.seededUniform([m * n], seed: 24).data
            residual[0] = .nan; residual[1] = -0.0
            let packed = w.withUnsafeBufferPointer { PanelGEMM.pack($0.baseAddress!, rows: m, depth: k) }
            for kind in [CK_IDENTITY, CK_RELU] {
                let plain = ck_activation(kind: Int32(CK_IDENTITY), lo: 0, hi: 0, residual: 0)
                let fused = ck_activation(kind: Int32(kind), lo: 0, hi: 0, residual: 1)
                var product = [Float](repeating: .nan, count: m * n), rows = residual, panel = residual
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: PanelGEMM.scratchCount(panels: PanelGEMM.panels(rows: m), columns: n))
                defer { scratch.deallocate() }
                packed.withUnsafeBufferPointer { p in w.withUnsafeBufferPointer { wb in b.withUnsafeBufferPointer { bb in bias.withUnsafeBufferPointer { bi in
                    PanelGEMM.multiplyRows(wb.baseAddress!, rows: m, depth: k, ldw: k, x: bb.baseAddress!, ldx: n, columns: n,
                                           y: &product, ldy: n, bias: bi.baseAddress, activation: plain)
                    PanelGEMM.multiplyRows(wb.baseAddress!, rows: m, depth: k, ldw: k, x: bb.baseAddress!, ldx: n, columns: n,
                                           y: &rows, ldy: n, bias: bi.baseAddress, activation: fused)
                    PanelGEMM.multiply(p.baseAddress!, rows: m, depth: k, panels: 0..<PanelGEMM.panels(rows: m), b: bb.baseAddress!, ldb: n,
                                       columns: n, y: &panel, ldy: n, bias: bi.baseAddress, activation: fused, scratch: scratch)
                }}}}
                let expected = zip(product, residual).map { kind == CK_RELU ? Vector.rectified($0 + $1) : $0 + $1 }
                XCTAssertTrue(rows.map(\.bitPattern) == expected.map(\.bitPattern), "\(m)x\(k)x\(n) row kernel, kind \(kind)")
                XCTAssertTrue(panel.map(\.bitPattern) == expected.map(\.bitPattern), "\(m)x\(k)x\(n) panel kernel, kind \(kind)")
            }
        }
    }

    func conv(_ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1) -> Conv2D {
        var rng = SeededGenerator(seed: 31)
        return Conv2D(name: "c", inputChannels: cin, outputChannels: cout,
                      window: Window2D(kernel: Pair(kernel), stride: Pair(stride), padding: Pair(padding)), groups: groups, rng: &rng)
    }

    /// Every forward path with a residual: those with their own epilogue (row and panel
    /// kernels, row blocks, Winograd F(2x2) and F(4x4)) and those that add it after (stem, depthwise,
    /// grouped, OpenBLAS's pixel-major and channel-major) give the convolution's output
    /// plus the residual, then ReLU, bit for bit, on 1 and 3 workers.
    func testEveryPathAddsTheResidualAsTheAdditionWould() {
        let cases: [(cin: Int, cout: Int, k: Int, s: Int, p: Int, g: Int, n: Int, hw: Int)] = [
            (24, 40, 1, 1, 0, 1, 1, 28),     // row kernel
            (300, 20, 1, 1, 0, 1, 1, 16),    // row kernel, two depth blocks
            (40, 24, 1, 2, 0, 1, 1, 50),     // row kernel on a subsampled input
            (64, 96, 3, 1, 1, 1, 1, 7),      // small maps
            (48, 33, 1, 1, 0, 1, 1, 7),      // small maps, 1x1
            (16, 24, 1, 1, 0, 1, 16, 7),     // pointwise on the panel kernel
            (32, 32, 3, 1, 1, 1, 1, 30),     // Winograd F(4x4)
            (32, 32, 3, 1, 1, 1, 2, 21),     // Winograd F(4x4), a partial last tile
            (24, 20, 3, 1, 1, 1, 8, 14),     // Winograd F(2x2), small-map lane groups
            (24, 20, 3, 1, 1, 1, 2, 19),     // Winograd F(2x2), odd edges
            (3, 16, 7, 2, 3, 1, 1, 64),      // stem
            (16, 16, 3, 1, 1, 16, 1, 20),    // depthwise
            (16, 24, 3, 1, 1, 4, 1, 12),     // grouped
            (8, 12, 3, 2, 1, 1, 16, 30),     // row blocks (AVX-512), else pixel-major (OpenBLAS)
            (8, 12, 3, 1, 1, 1, 4, 30),      // too few channels for Winograd: OpenBLAS
            (3, 12, 5, 2, 2, 1, 16, 24),     // channel-major (OpenBLAS)
        ]
        var epilogues = 0, after = 0
        for c in cases {
            for relu in [false, true] {
                let layer = conv(c.cin, c.cout, kernel: c.k, stride: c.s, padding: c.p, groups: c.g)
                let x = Tensor.seededUniform([c.n, c.cin, c.hw, c.hw], seed: 32)
                Parallel.workers = 1
                let plain = layer.twin().forward(x, mode: .evaluation)
                var residual = Tensor.seededUniform(plain.shape, seed: 33)
                residual.data[0] = -plain.data[0]  // a sum of exactly zero
                let path = layer.forwardPath(layer.geometry(x.shape), samples: c.n, mode: .evaluation)
                if layer.addsResidualInEpilogue(path) { epilogues += 1 } else { after += 1 }
                for workers in [1, 3] {
                    Parallel.workers = workers
                    layer.residual = residual
                    layer.rectifiesOutput = relu
                    let fused = layer.forward(x, mode: .evaluation)
                    XCTAssertNil(layer.residual, "\(c): taken for one call")
                    XCTAssertEqual(fused.bits, Tensor(shape: plain.shape, data: added(plain, residual, relu: relu)).bits,
                                   "\(c) \(path) relu \(relu), \(workers) workers")
                    // The residual the caller still holds is not written (copied on write).
                    XCTAssertEqual(residual.data[1].bitPattern, Tensor.seededUniform(plain.shape, seed: 33).data[1].bitPattern)
                }
            }
        }
        XCTAssertGreaterThan(after, 0)
        if PanelGEMM.isAvailable && Conv2D.winogradByDefault { XCTAssertGreaterThanOrEqual(epilogues, 20) }
    }

    /// Graphs: an identity shortcut, and a downsampling block whose shortcut convolution
    /// comes after its main branch (the shortcut then takes the sum). Fused, the outputs
    /// are the same bytes; a pass through the convolution or keeping it, or keeping the
    /// residual, sees the unfused values; a recording pass runs unfused.
    func testGraphFusesResidualAdditionsWithTheSameOutputs() throws {
        let json = #"""
        {"name": "blocks", "input": [8, 12, 12], "layers": [
          {"type": "conv", "name": "a", "out": 8, "kernel": 3, "padding": 1, "inputs": ["input"]},
          {"type": "relu", "name": "ra", "inputs": ["a"]},
          {"type": "conv", "name": "b", "out": 8, "kernel": 3, "padding": 1, "inputs": ["ra"]},
          {"type": "add", "name": "sum1", "inputs": ["b", "ra"]},
          {"type": "relu", "name": "r1", "inputs": ["sum1"]},
          {"type": "conv", "name": "c", "out": 16, "kernel": 3, "stride": 2, "padding": 1, "inputs": ["r1"]},
          {"type": "conv", "name": "shortcut", "out": 16, "kernel": 1, "stride": 2, "inputs": ["r1"]},
          {"type": "add", "name": "sum2", "inputs": ["c", "shortcut"]},
          {"type": "relu", "name": "r2", "inputs": ["sum2"]},
          {"type": "conv", "name": "d", "out": 16, "kernel": 1, "inputs": ["r2"]},
          {"type": "add", "name": "sum3", "inputs": ["r2", "d"]}
        ]}
        """#
        let architecture = try Architecture(json: Data(json.utf8))
        let x = Tensor.seededUniform([2, 8, 12, 12], seed: 41)
        let plain = try architecture.makeGraph(seed: 5), graph = try architecture.makeGraph(seed: 5)
        graph.fusingActivations()
        XCTAssertEqual(graph.fusedAdditionCount, 3)
        let shortcut = try XCTUnwrap(graph.index(ofLayer: "shortcut")), sum2 = try XCTUnwrap(graph.index(ofLayer: "sum2"))
        XCTAssertEqual(graph.fusedAdditions[sum2]?.convolutionIndex, shortcut, "the later convolution takes the sum")
        XCTAssertEqual(graph.output(x).bits, plain.output(x).bits)
        // (An addition's own value with its ReLU fused is rectified, fused into a convolution or not.)
        for name in ["b", "shortcut", "c", "d", "ra", "r1", "r2"] {
            let i = try XCTUnwrap(graph.index(ofLayer: name))
            let expected = plain.forward(x, mode: .evaluation, keep: [i])[i]!
            XCTAssertEqual(graph.output(x, through: i).bits, expected.bits, "through \(name)")
            XCTAssertEqual(graph.forward(x, mode: .evaluation, keep: [i])[i]!.bits, expected.bits, "keeping \(name)")
        }
        XCTAssertEqual(graph.output(x, mode: .evaluationWithGradients).bits, plain.output(x).bits)
        // The network's input as the residual: the caller's tensor is left as it was.
        let identity = try Architecture(json: Data(#"{"name": "id", "input": [8, 12, 12], "layers": [{"type": "conv", "name": "a", "out": 8, "kernel": 3, "padding": 1, "inputs": ["input"]}, {"type": "add", "name": "sum", "inputs": ["input", "a"]}]}"#.utf8))
        let fusedIdentity = try identity.makeGraph(seed: 6)
        fusedIdentity.fusingActivations()
        XCTAssertEqual(fusedIdentity.fusedAdditionCount, 1)
        let before = x.data
        XCTAssertEqual(fusedIdentity.output(x).bits, try identity.makeGraph(seed: 6).output(x).bits)
        XCTAssertEqual(x.data, before)
        // A residual still read by a layer between the convolution and the addition stays
        // in the graph (copied on write), here the network's input and a ReLU's output.
        let between = try Architecture(json: Data(#"{"name": "between", "input": [8, 12, 12], "layers": [{"type": "relu", "name": "r", "inputs": ["input"]}, {"type": "conv", "name": "p", "out": 8, "kernel": 1, "inputs": ["r"]}, {"type": "conv", "name": "a", "out": 8, "kernel": 3, "padding": 1, "inputs": ["p"]}, {"type": "conv", "name": "b", "out": 8, "kernel": 1, "inputs": ["r"]}, {"type": "conv", "name": "i", "out": 8, "kernel": 1, "inputs": ["input"]}, {"type": "add", "name": "sum", "inputs": ["r", "a"]}, {"type": "add", "name": "sum2", "inputs": ["input", "i"]}, {"type": "concat", "name": "out", "inputs": ["sum", "sum2", "b"]}]}"#.utf8))
        let fusedBetween = try between.makeGraph(seed: 7)
        fusedBetween.fusingActivations()
        XCTAssertEqual(fusedBetween.fusedAdditionCount, 2)
        XCTAssertEqual(fusedBetween.output(x).bits, try between.makeGraph(seed: 7).output(x).bits)
    }
}

private extension Tensor {
    /// The values' bit patterns, hashed: equal tensors give equal numbers, and a failure
    /// prints two numbers rather than every value.
    var bits: Int { var h = Hasher(); for v in data { h.combine(v.bitPattern) }; return h.finalize() }
}
