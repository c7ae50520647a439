import ConvVizCore
import Foundation

/// In-process time per figure (scene + encoding + atomic write), for the comparison
/// with matplotlib and torchvision in `Benchmarks/compare_rendering.py`.
public enum RenderBenchmark {
    public struct Result: Sendable {
        public let figure: String
        public let format: OutputFormat
        public let milliseconds: Double
    }

    /// The two benchmark figures: 96 filters of 3x11x11 (8x12 cells, x8, gap 2) and 32
    /// maps of 64x64 (viridis, a title per map), each to PNG and SVG, best of `repeats`.
    public static func run(filters: Tensor, maps: Tensor, directory: URL, repeats: Int = 5) throws -> [Result] {
        var results: [Result] = []
        for format in [OutputFormat.png, .svg] {
            let filterPath = directory.appendingPathComponent("bench-filters.\(format.rawValue)").path
            results.append(Result(figure: "filters 96x3x11x11", format: format, milliseconds: try best(repeats) {
                var mosaic = FilterMosaic(weights: filters)
                mosaic.columns = 12
                mosaic.scale = 8
                mosaic.gap = 2
                try Canvas.write(mosaic.scene(), to: filterPath)
            }))
            let mapPath = directory.appendingPathComponent("bench-maps.\(format.rawValue)").path
            results.append(Result(figure: "maps 32x64x64", format: format, milliseconds: try best(repeats) {
                var figure = ActivationMaps(maps: maps, layer: "conv1")
                figure.scale = 1
                try Canvas.write(figure.scene(), to: mapPath)
            }))
        }
        return results
    }

    static func best(_ repeats: Int, _ body: () throws -> Void) throws -> Double {
        var best = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return best
    }
}
