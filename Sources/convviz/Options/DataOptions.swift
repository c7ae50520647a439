import ArgumentParser
import ConvVizCore

/// The labelled images a training command reads (`--data`).
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Training data: fashion-mnist (Debian's dataset-fashion-mnist), samples (patches of the embedded photographs), cifar10:DIR (CIFAR-10 binary batches) or folder:DIR (one subfolder of PNGs per class).",
                               valueName: "data"),
            transform: { try DataSource(parsing: $0) })
    var data: DataSource = .fashionMNIST
}
