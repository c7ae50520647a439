import ArgumentParser
import ConvVizCore
import Foundation

/// `--size`: the photo's own size (`full`), or `N` / `HxW` as `ImageSize`.
enum PhotoSize: ExpressibleByArgument {
    case full
    case fixed(ImageSize)

    init?(argument: String) {
        if argument.lowercased() == "full" { self = .full; return }
        guard let size = ImageSize(argument: argument) else { return nil }
        self = .fixed(size)
    }

    static var allValueStrings: [String] { ["full", "N", "HxW"] }

    /// [H, W]: the size given, or the photo's own read from its header.
    func resolved(photo: String) throws -> [Int] {
        switch self {
        case let .fixed(s): return [s.height, s.width]
        case .full:
            // Through FileReading, as the decoder reads it: a FIFO or device is refused by kind.
            let header = try PNGDecoder.header(try FileReading.read(URL(fileURLWithPath: photo)), file: photo)
            return [header.height, header.width]
        }
    }
}
