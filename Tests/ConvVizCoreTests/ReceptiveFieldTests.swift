import XCTest
@testable import ConvVizCore

final class ReceptiveFieldTests: XCTestCase {
    func table(_ input: [Int], _ layers: [LayerSpec]) throws -> ShapeTable {
        try ShapeTable(Architecture(name: "t", input: input, layers: layers))
    }

    func testLectureConvolution() throws {
        let t = try table([3, 32, 32], [LayerSpec(.conv, out: 10, kernel: Pair(5), stride: Pair(1), padding: Pair(2))])
        XCTAssertEqual(t.rows[0].output, [10, 32, 32])
        XCTAssertEqual(t.rows[0].params, 760)
        XCTAssertEqual(t.rows[0].macs, 768_000)
    }

    func testThreeStackedThreeByThreeSeeSevenBySeven() throws {
        let conv = LayerSpec(.conv, out: 4, kernel: Pair(3))
        let t = try table([1, 16, 16], [conv, LayerSpec(.relu), conv, LayerSpec(.relu), conv])
        XCTAssertEqual(t.rows.map(\.receptiveField), [[3, 3], [3, 3], [5, 5], [5, 5], [7, 7]])
        XCTAssertEqual(t.rows.last!.center, [3, 3], "unpadded: the top-left unit sees pixels 0...6")
        // 1 + L(K-1) for L stride-1 K x K layers, for several L and K.
        for k in [3, 5, 7] { for l in 1...4 {
            let t = try table([1, 64, 64], Array(repeating: LayerSpec(.conv, out: 1, kernel: Pair(k)), count: l))
            XCTAssertEqual(t.rows.last!.receptiveField[0], Double(1 + l * (k - 1)), "L=\(l) K=\(k)")
        }}
    }

    func testStridePoolingPaddingDilationAndAsymmetricKernels() throws {
        // conv 3x3 s2 p1: r=3, j=2, c=(1-1)*1=0; pool 2 s2: r=3+1*2=5, j=4, c=0+(0.5-0)*2=1;
        // conv 3x3 d2 p2: r=5+2*2*4=21, j=4, c=1+(2-2)*4=1; conv [1,5] p[0,2]: r_w=21+4*4=37.
        let t = try table([1, 64, 64], [
            LayerSpec(.conv, out: 2, kernel: Pair(3), stride: Pair(2), padding: Pair(1)),
            LayerSpec(.maxpool, kernel: Pair(2)),
            LayerSpec(.conv, out: 2, kernel: Pair(3), padding: Pair(2), dilation: Pair(2)),
            LayerSpec(.conv, out: 2, kernel: Pair(1, 5), padding: Pair(0, 2)),
        ])
        XCTAssertEqual(t.rows.map(\.receptiveField), [[3, 3], [5, 5], [21, 21], [21, 37]])
        XCTAssertEqual(t.rows.map(\.jump), [[2, 2], [4, 4], [4, 4], [4, 4]])
        XCTAssertEqual(t.rows.map(\.center), [[0, 0], [1, 1], [1, 1], [1, 1]])
        XCTAssertEqual(t.rows.map(\.output), [[2, 32, 32], [2, 16, 16], [2, 16, 16], [2, 16, 16]])
        // Unit (2, 3) of the pooled layer: centre 1 + 4*(2, 3) = (9, 13), half-size 2.
        let f = t.field(row: 1, unit: (2, 3))
        XCTAssertEqual([f.y0, f.x0, f.y1, f.x1], [7, 11, 11, 15])
    }

    func testDilatedOutputSize() throws {
        // H' = floor((H + 2P - D(K-1) - 1)/S) + 1 = floor((10 + 0 - 4 - 1)/1) + 1 = 6
        let t = try table([1, 10, 10], [LayerSpec(.conv, out: 1, kernel: Pair(3), dilation: Pair(2))])
        XCTAssertEqual(t.rows[0].output, [1, 6, 6])
        XCTAssertEqual(t.rows[0].receptiveField, [5, 5])
    }

    func testLayersAfterFlattenSeeEverything() throws {
        let t = try table([1, 8, 6], [LayerSpec(.conv, out: 2, kernel: Pair(3)), LayerSpec(.flatten), LayerSpec(.linear, out: 3)])
        XCTAssertEqual(t.rows[2].receptiveField, [8, 6])
        XCTAssertEqual(t.rows[2].macs, 2 * 6 * 4 * 3)
    }

    /// Luo et al.: the effective field of a random stack of 3x3 convolutions is centred
    /// on the unit and much narrower than the theoretical field.
    func testEffectiveFieldIsCentredAndNarrower() throws {
        let conv = LayerSpec(.conv, out: 8, kernel: Pair(3), padding: Pair(1))
        var layers: [LayerSpec] = []
        for _ in 0..<6 { layers += [conv, LayerSpec(.relu)] }
        let arch = Architecture(name: "deep", input: [1, 33, 33], layers: layers)
        let model = try arch.makeModel(seed: 3)
        var rng = SeededGenerator(seed: 4)
        let x = Tensor.normal(shape: [8, 1, 33, 33], using: &rng)
        let last = layers.count - 1
        let erf = EffectiveReceptiveField(model: model, layer: last, unit: (16, 16), inputs: x)
        let theory = try ShapeTable(arch).rows[last].receptiveField[0]
        XCTAssertEqual(theory, 13)
        let c = erf.centroid
        XCTAssertEqual(c.y, 16, accuracy: 1.0)
        XCTAssertEqual(c.x, 16, accuracy: 1.0)
        let box = try XCTUnwrap(erf.extent(fraction: 0.1))
        XCTAssertLessThan(Double(box.y1 - box.y0 + 1), theory, "effective field narrower than \(theory)")
        // Nothing outside the theoretical field.
        for y in 0..<33 { for xx in 0..<33 where abs(y - 16) > 6 || abs(xx - 16) > 6 { XCTAssertEqual(erf.map[y, xx], 0) } }
    }
}
