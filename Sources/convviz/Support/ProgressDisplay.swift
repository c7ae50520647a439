import ConvVizCore
import Foundation

/// Training progress on stderr: a live bar on a terminal, plain lines otherwise (logs,
/// CI), so stdout stays free for results.
final class ProgressDisplay {
    private let live = isatty(STDERR_FILENO) != 0
    private var barShown = false

    func note(_ text: String) {
        clearBar()
        FileHandle.standardError.write(Data("\(text)\n".utf8))
    }

    func show(_ event: Trainer.Event) {
        switch event {
        case let .step(step, total, epoch, loss, accuracy, lr, ips):
            let stats = String(format: "epoch %d  step %d/%d  loss %.4f  acc %.3f  lr %.4g  %.0f img/s", epoch + 1, step, total, loss, accuracy, lr, ips)
            showBar(step: step, total: total, stats: stats)
        case let .evaluation(epoch, loss, accuracy):
            note(String(format: "epoch %d  test loss %.4f  test accuracy %.4f", epoch + 1, loss, accuracy))
        case .epochEnd:
            break
        }
    }

    /// Any long loop: `done` of `total` and `stats` on a live bar; without a terminal,
    /// a plain line at every tenth of the way.
    func bar(done: Int, total: Int, stats: String) {
        if live {
            let width = 24, filled = total > 0 ? width * done / total : 0
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(bar) \(stats)".utf8))
            barShown = true
        } else if total > 0, done == total || 10 * done / total > 10 * lastDone / total {
            FileHandle.standardError.write(Data("\(stats)\n".utf8))
        }
        lastDone = done
    }
    private var lastDone = 0

    /// `bar(done:total:stats:)` for a loop counted in steps.
    func showBar(step: Int, total: Int, stats: String) { bar(done: step, total: total, stats: stats) }

    func finish() { clearBar() }

    private func clearBar() {
        if barShown { FileHandle.standardError.write(Data("\n".utf8)); barShown = false }
    }
}
