import Foundation

/// A run's logged curves: training loss per step and test accuracy per epoch.
public struct TrainingMetrics: Sendable {
    public var loss: [(step: Double, value: Double)]
    /// Epochs counted from 1 (the accuracy after the first epoch is at 1).
    public var accuracy: [(epoch: Double, value: Double)]
    public init(loss: [(step: Double, value: Double)], accuracy: [(epoch: Double, value: Double)]) {
        self.loss = loss; self.accuracy = accuracy
    }
}

extension RunDirectory {
    /// Reads the `metrics.jsonl` a run directory at `url` holds (as `record` and `save`
    /// write it): a step line gives a loss point, an evaluation line an accuracy point.
    public static func metrics(in url: URL) throws -> TrainingMetrics {
        let file = url.appendingPathComponent("metrics.jsonl")
        guard FileManager.default.fileExists(atPath: file.path) else { throw ReadError(file.path, .notFound, "no metrics.jsonl (is this a run directory?)") }
        // 256 MiB of lines is millions of logged steps; a larger file is not ours.
        return try metrics(parsing: try FileReading.read(file, maxBytes: 1 << 28, what: "metrics file"), file: file.path)
    }

    /// The points of a `metrics.jsonl` file's bytes; `file` names it in errors.
    public static func metrics(parsing data: Data, file: String) throws -> TrainingMetrics {
        let text = String(decoding: data, as: UTF8.self)
        var metrics = TrainingMetrics(loss: [], accuracy: [])
        for (i, line) in text.split(separator: "\n").enumerated() {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw ReadError(file, .corrupt, "line \(i + 1) is not a JSON object")
            }
            if let s = (o["step"] as? NSNumber)?.doubleValue, let l = (o["loss"] as? NSNumber)?.doubleValue, s.isFinite, l.isFinite { metrics.loss.append((s, l)) }
            if let e = (o["epoch"] as? NSNumber)?.doubleValue, let a = (o["test_accuracy"] as? NSNumber)?.doubleValue, e.isFinite, a.isFinite { metrics.accuracy.append((e + 1, a)) }
        }
        return metrics
    }
}
