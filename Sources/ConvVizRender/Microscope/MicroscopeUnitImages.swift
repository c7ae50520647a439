import ConvVizCore
import Foundation

/// A microscope unit's pictures, each a small PNG in the unit's folder: `vis.png` (its
/// feature visualization), `patches.png` (its top patches, best first, row by row),
/// `kernel.png` (its filter: colour for three input channels, the slices' grid deeper)
/// and `map-I.png` (its activation map on photo I, viridis, scaled to the map's range).
/// Pixels are upscaled by whole factors (nearest neighbour) so they stay crisp.
public enum MicroscopeUnitImages {
    /// Patches per row of `patches.png`.
    public static let patchColumns = 3

    public static func write(_ content: MicroscopeJob.UnitContent) throws {
        let folder = content.folder
        let vis = content.visualization
        try writePNG(RasterImage(image: vis, scale: max(1, 112 / max(vis.shape[1], 1))), to: folder.appendingPathComponent("vis.png"))
        if !content.crops.isEmpty { try writePNG(patchMontage(content.crops), to: folder.appendingPathComponent("patches.png")) }
        if let kernel = content.kernel {
            let raster = TopPatchesGrid.kernelRaster(kernel)
            try writePNG(raster.upscaled(max(1, 64 / max(raster.width, raster.height))), to: folder.appendingPathComponent("kernel.png"))
        }
        for (i, map) in content.maps.enumerated() {
            try writePNG(mapRaster(map), to: folder.appendingPathComponent("map-\(i).png"))
        }
    }

    /// The crops in rows of `patchColumns`, 2 px apart, each scaled to about 36 px.
    public static func patchMontage(_ crops: [TopPatchesCrop]) -> RasterImage {
        let grid = TopPatchesGrid(layer: "", rows: [], data: "", scanned: 0)
        let rasters = crops.map { grid.raster($0) }
        let side = rasters.map { max($0.width, $0.height) }.max() ?? 1
        let scale = max(1, 36 / side), cell = side * scale, gap = 2
        let columns = min(patchColumns, max(rasters.count, 1)), rows = (rasters.count + columns - 1) / columns
        var out = RasterImage(width: columns * cell + (columns - 1) * gap, height: max(rows, 1) * cell + max(rows - 1, 0) * gap, fill: .white)
        for (i, r) in rasters.enumerated() {
            let big = r.upscaled(scale)
            let ox = (i % columns) * (cell + gap), oy = (i / columns) * (cell + gap)
            for y in 0..<big.height { for x in 0..<big.width { out.set(ox + x, oy + y, big[x, y]) } }
        }
        return out
    }

    /// A map `[h, w]` in viridis over its own range, scaled to about 112 px.
    public static func mapRaster(_ map: Tensor) -> RasterImage {
        let (h, w) = (map.shape[0], map.shape[1])
        let low = map.data.min() ?? 0, high = map.data.max() ?? 1
        let raster = map.data.withUnsafeBufferPointer { Colormap.viridis.raster($0, width: w, height: h, low: low, high: high > low ? high : low + 1) }
        return raster.upscaled(max(1, 112 / max(h, w)))
    }

    public static func writePNG(_ raster: RasterImage, to url: URL) throws {
        var scene = Scene(width: Double(raster.width), height: Double(raster.height))
        scene.add(.image(raster, at: Point(0, 0)))
        try AtomicFile.write(try Canvas.render(scene, format: .png), to: url)
    }
}
