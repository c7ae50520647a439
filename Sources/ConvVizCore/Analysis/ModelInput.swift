import Foundation

/// Preparing an image file for a trained model exactly as its training data was
/// prepared: channels converted, resized (bilinear) to the model's input size, and
/// standardized with the checkpoint's statistics.
public enum ModelInput {
    /// Returns the [0, 1] image at model size (for display) and the standardized batch of one.
    public static func prepare(imageAt url: URL, for architecture: Architecture, standardization: Standardization,
                               limits: ReadLimits = .default) throws -> (display: Tensor, batch: Tensor) {
        let (c, h, w) = (architecture.input[0], architecture.input[1], architecture.input[2])
        // Checked before decoding or resizing: an architecture can declare a 2^20 x 2^20 input.
        guard let pixels = checkedProduct([h, w]), pixels <= limits.maxPixels else {
            throw ReadError(url.path, .tooLarge, "the network '\(architecture.name)' takes \(h)x\(w) images, more than the \(limits.maxPixels)-pixel limit an image is resized to")
        }
        let image = try PNGDecoder.decode(contentsOf: url, limits: limits)
        guard c == 1 || c == 3 else { throw ShapeError(layer: "input", "the model takes \(c) channels; images give 1 or 3") }
        let display = ImageResize.bilinear(ImageResize.channels(image, c), height: h, width: w)
        var batch = display.reshaped([1, c, h, w])
        standardization.apply(to: &batch)
        return (display, batch)
    }
}
