import XCTest
@testable import ConvVizCore

/// The recording forward pass of max pooling (values and the cell each gradient goes to)
/// against a window-by-window loop written here, on planes wide enough for its
/// eight-at-a-time path: ties (the first maximum in row order wins), NaN (the last NaN
/// wins), windows of negative infinity only, padding, ceil mode and strides 1 to 3.
final class MaxPoolIndexTests: XCTestCase {
    /// PyTorch's rule, cell by cell: the window's first cell, then any greater or NaN.
    func reference(_ x: Tensor, _ window: Window2D, gradient: Tensor) -> (values: [Float], gradInput: [Float]) {
        let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        let out = try! window.outputSize(height: h, width: w, layer: "p")
        let (k, s, p) = (window.kernel, window.stride, window.padding)
        var values: [Float] = [], dx = [Float](repeating: 0, count: x.count)
        for plane in 0..<planes {
            for oy in 0..<out.h {
                for ox in 0..<out.w {
                    var best = -Float.infinity, bestIndex = -1
                    for iy in max(0, oy * s.h - p.h)..<min(h, oy * s.h - p.h + k.h) {
                        for ix in max(0, ox * s.w - p.w)..<min(w, ox * s.w - p.w + k.w) {
                            let v = x.data[plane * h * w + iy * w + ix]
                            if bestIndex < 0 || v > best || v.isNaN { best = v; bestIndex = plane * h * w + iy * w + ix }
                        }
                    }
                    values.append(best)
                    dx[bestIndex] += gradient.data[values.count - 1]
                }
            }
        }
        return (values, dx)
    }

    func testRecordingForwardAndBackwardEqualTheWindowLoop() {
        var rng = SeededGenerator(seed: 11)
        // Values on a coarse grid: many ties inside windows.
        var x = Tensor(shape: [2, 3, 13, 41], data: (0..<(2 * 3 * 13 * 41)).map { _ in Float(Int.random(in: -3...3, using: &rng)) })
        for i in [5, 41 * 3 + 17, 41 * 3 + 18, 13 * 41 + 40, 2 * 13 * 41 + 41 * 6 + 9] { x.data[i] = .nan }
        // A row and a block of negative infinity: windows with nothing but -inf.
        for i in 0..<41 { x.data[3 * 13 * 41 + 41 * 4 + i] = -.infinity }
        for r in 0..<3 { for c in 0..<5 { x.data[4 * 13 * 41 + r * 41 + c] = -.infinity } }
        for window in [Window2D(kernel: Pair(3), stride: Pair(2), padding: Pair(1)),
                       Window2D(kernel: Pair(3), stride: Pair(1), padding: Pair(1)),
                       Window2D(kernel: Pair(2), stride: Pair(1)),
                       Window2D(kernel: Pair(3), stride: Pair(2), ceilMode: true),
                       Window2D(kernel: Pair(5, 4), stride: Pair(2), padding: Pair(2), ceilMode: true),
                       Window2D(kernel: Pair(3), stride: Pair(3), padding: Pair(1))] {
            let pool = MaxPool2D(name: "p", window: window)
            let y = pool.forward(x, mode: .training)
            let gradient = Tensor(shape: y.shape, data: (0..<y.count).map { Float($0 % 97) + 1 })
            let expected = reference(x, window, gradient: gradient)
            XCTAssertEqual(y.count, expected.values.count, "\(window)")
            for (a, b) in zip(y.data, expected.values) { XCTAssertTrue(a == b || (a.isNaN && b.isNaN), "\(window): \(a) vs \(b)") }
            let dx = pool.backward(gradient, needsInputGradient: true)!
            let misplaced = zip(dx.data, expected.gradInput).filter { $0 != $1 }.count
            XCTAssertEqual(misplaced, 0, "\(window): gradients went to other cells")
        }
    }
}
