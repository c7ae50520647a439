import ArgumentParser

@main
struct ConvViz: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convviz",
        abstract: "Train small convolutional networks and draw what they learned.",
        subcommands: [BenchCommand.self, DemoCommand.self])
}
