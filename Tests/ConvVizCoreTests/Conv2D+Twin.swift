@testable import ConvVizCore

extension Conv2D {
    /// A second convolution with this one's geometry, weight and bias, and the default
    /// settings otherwise: the other side of a comparison between two paths.
    func twin() -> Conv2D {
        var rng = SeededGenerator(seed: 0)
        let copy = Conv2D(name: name, inputChannels: inputChannels, outputChannels: outputChannels, window: window,
                          groups: groups, bias: bias != nil, rng: &rng)
        copy.weight.value = weight.value
        if let bias { copy.bias!.value = bias.value }
        return copy
    }
}
