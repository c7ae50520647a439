import Foundation
import XCTest
@testable import ConvVizCore

/// Every PNG flavour, against the values `Fixtures/png/make_fixtures.py` wrote.
final class PNGDecoderTests: XCTestCase {
    func fixture(_ name: String) throws -> Tensor {
        try PNGDecoder.decode(contentsOf: Bundle.module.resourceURL!.appendingPathComponent("Fixtures/png/\(name)"))
    }

    let (w, h) = (5, 3)
    func gray(_ x: Int, _ y: Int) -> Float { Float((x * 50 + y * 20) % 256) / 255 }
    func rgb(_ x: Int, _ y: Int) -> [Float] { [Float(x * 60), Float(y * 100), Float(255 - x * 60)].map { $0 / 255 } }

    func testGrayEightAndSixteenBit() throws {
        for name in ["gray8.png", "gray16.png"] {
            let t = try fixture(name)
            XCTAssertEqual(t.shape, [1, h, w], name)
            for y in 0..<h { for x in 0..<w { XCTAssertEqual(t[0, y, x], gray(x, y), accuracy: 1e-6, "\(name) (\(x),\(y))") } }
        }
    }

    func testColourEightAndSixteenBitAndAlpha() throws {
        for name in ["rgb8.png", "rgb16.png", "rgba8.png"] {
            let t = try fixture(name)
            XCTAssertEqual(t.shape, [3, h, w], name)
            for y in 0..<h { for x in 0..<w { for c in 0..<3 {
                XCTAssertEqual(t[c, y, x], rgb(x, y)[c], accuracy: 1e-6, "\(name) (\(x),\(y)) channel \(c)")
            }}}
        }
    }

    func testGrayAlphaCompositesOntoBlack() throws {
        let t = try fixture("gray_alpha8.png")
        XCTAssertEqual(t.shape, [1, h, w])
        for y in 0..<h { for x in 0..<w {
            XCTAssertEqual(t[0, y, x], x % 2 == 0 ? gray(x, y) : 0, accuracy: 1e-6, "(\(x),\(y))")
        }}
    }

    func testPaletteAndOneBit() throws {
        let t = try fixture("palette2.png")
        XCTAssertEqual(t.shape, [3, h, w])
        let palette: [[Float]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { XCTAssertEqual(t[c, y, x], palette[(x + y) % 4][c], "(\(x),\(y))") } } }
        let bits = try fixture("gray1.png")
        for y in 0..<h { for x in 0..<w { XCTAssertEqual(bits[0, y, x], Float((x + y) % 2)) } }
    }

    func testInterlacedEqualsPlain() throws {
        let a = try fixture("interlaced_rgb8.png"), b = try fixture("plain_rgb8_9x7.png")
        XCTAssertEqual(a.shape, [3, 7, 9])
        XCTAssertEqual(a, b)
        XCTAssertEqual(a[2, 6, 8], Float(48) / 255)
    }

    func testSamplePhotographsLoad() throws {
        let cat = try SamplePhotos.load("chelsea")
        XCTAssertEqual(cat.shape, [3, 300, 451])
        let coins = try SamplePhotos.load("coins")
        XCTAssertEqual(coins.shape, [1, 303, 384])
        let patches = try SamplePhotos.patches(size: 16, count: 10, seed: 3)
        XCTAssertEqual(patches.images.shape, [10, 3, 16, 16])
        XCTAssertEqual(try SamplePhotos.patches(size: 16, count: 10, seed: 3).images, patches.images, "seeded")
    }
}
