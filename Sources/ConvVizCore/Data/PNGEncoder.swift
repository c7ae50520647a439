import CPNG
import Foundation

/// Writes 8-bit RGB PNGs through libpng's simplified API, favouring speed
/// (`PNG_IMAGE_FLAG_FAST`): figures are written far more often than they are stored.
public enum PNGEncoder {
    public struct Failure: Error, CustomStringConvertible { public let description: String }

    /// `rgb` holds `width * height * 3` bytes, row-major.
    public static func encodeRGB(_ rgb: [UInt8], width: Int, height: Int) throws -> Data {
        precondition(rgb.count == width * height * 3)
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_RGB)
        image.flags = UInt32(PNG_IMAGE_FLAG_FAST)
        defer { png_image_free(&image) }
        var size = 0
        // First call: the size needed; second: the bytes.
        let sized = rgb.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, 0, nil) }
        guard sized != 0, size > 0 else { throw Failure(description: "libpng could not size the PNG") }
        var out = Data(count: size)
        let ok = out.withUnsafeMutableBytes { dst in
            rgb.withUnsafeBytes { png_image_write_to_memory(&image, dst.baseAddress, &size, 0, $0.baseAddress, 0, nil) }
        }
        guard ok != 0 else { throw Failure(description: "libpng could not write the PNG") }
        return out.prefix(size)
    }
}
