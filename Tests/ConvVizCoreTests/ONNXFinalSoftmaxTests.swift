import XCTest
@testable import ConvVizCore

/// A model exported with a final Softmax or LogSoftmax imports (the operation left out,
/// the output the logits before it): its probabilities equal onnxruntime's output, and
/// attribution explains the logit, as on the same network exported without it. A
/// Softmax inside a network is refused with an error naming the node.
final class ONNXFinalSoftmaxTests: XCTestCase {
    static var directory: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/attribution") }
    func load(_ name: String) throws -> Tensor { try NPY.read(contentsOf: Self.directory.appendingPathComponent(name)) }

    func testFinalSoftmaxAndLogSoftmax() throws {
        let x = try load("input.npy"), logits = try load("logits.npy")
        let gradcam = try load("gradcam.raw.npy")
        for (name, log) in [("softmax", false), ("logsoftmax", true)] {
            let path = Self.directory.appendingPathComponent("net-\(name).onnx").path
            let imported = try ONNXImport(contentsOf: URL(fileURLWithPath: path))
            XCTAssertEqual(imported.droppedOutputOperation, log ? "LogSoftmax" : "Softmax")
            let graph = try ModelSource(model: path).makeGraph()
            let attributor = Attributor(graph: graph)
            let y = attributor.logits(x)
            let worst = zip(y.data, logits.data).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-4 * logits.maxAbs, "\(name): the output is the logits")
            let reference = try load("\(name).ort.npy")
            let k = y.shape[1]
            for i in 0..<2 {
                let p = AttributionTarget.softmax(Array(y.data[i * k..<(i + 1) * k]))
                for c in 0..<k {
                    let want = Double(reference.data[i * k + c])
                    XCTAssertEqual(log ? Foundation.log(p[c]) : p[c], want, accuracy: 1e-5 * max(1, abs(want)), "\(name) image \(i) class \(c)")
                }
            }
            // Grad-CAM explains the logit: the same raw map as grad-cam's on the logits.
            var settings = AttributionSettings()
            settings.layer = try XCTUnwrap(graph.index(ofLayer: "/0/relu5/Relu"))
            let maps = try attributor.attribute(.gradcam, inputs: x, pairs: [(0, 3), (1, 7)], settings: settings)
            let error = zip(maps.flatMap(\.raw.data), gradcam.data).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(error, 1e-4 * gradcam.maxAbs, "\(name): Grad-CAM of the logit")
        }
    }

    func testSoftmaxInsideIsRefused() throws {
        let path = Self.directory.appendingPathComponent("softmax-inside.onnx").path
        XCTAssertThrowsError(try ONNXImport(contentsOf: URL(fileURLWithPath: path))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("softmax-inside.onnx") && text.contains("Softmax") && text.contains("only as the graph's last operation"), text)
        }
    }
}
