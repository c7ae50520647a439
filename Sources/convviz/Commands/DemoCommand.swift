import ArgumentParser

/// `convviz demo`: the one-command report (not built yet; see the README's status).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train on the embedded photographs and write the full figure report.")

    @Option(help: "Output directory.")
    var out: String = "Outputs/demo"

    func run() throws {
        print("""
        convviz demo: the report is not built yet.
        Available now: `convviz bench conv` (convolution throughput next to SGEMM).
        Coming next: training (`convviz train`), figures and the report in \(out)/.
        """)
    }
}
