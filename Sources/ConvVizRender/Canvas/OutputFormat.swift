import Foundation

/// The file formats a figure renders to, chosen by the output file's extension.
public enum OutputFormat: String, CaseIterable, Sendable {
    case png, svg, pdf

    public struct Unsupported: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "\(path): unknown figure format; use a .png, .svg or .pdf file name" }
    }

    public init(path: String) throws {
        guard let f = OutputFormat(rawValue: URL(fileURLWithPath: path).pathExtension.lowercased()) else { throw Unsupported(path: path) }
        self = f
    }
}
