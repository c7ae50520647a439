import Foundation

/// One unit's record in a microscope site (`units/LAYER/C/unit.json`, and all of them
/// in `microscope.json`): what the pages show, as numbers.
public struct MicroscopeUnit: Codable, Equatable, Sendable {
    public struct Patch: Codable, Equatable, Sendable {
        /// Index of the image in the scanned split.
        public var image: Int
        public var y: Int
        public var x: Int
        public var value: Float
        /// The unit's field in input pixels `[top, left, height, width]`.
        public var box: [Int]
        /// The image's class (nil without labels).
        public var label: Int?

        public init(image: Int, y: Int, x: Int, value: Float, box: [Int], label: Int?) {
            self.image = image
            self.y = y
            self.x = x
            self.value = value
            self.box = box
            self.label = label
        }
    }

    public var layer: String
    public var channel: Int
    /// The feature visualization's objective reached (the channel's mean on the final
    /// image, untransformed): `FeatureVisualization.Result.values`.
    public var objective: Float
    /// The channel's mean over every position of every scanned image.
    public var meanActivation: Float
    /// Best first: the unit's top patches (`TopPatches`' order).
    public var patches: [Patch]
    /// Per class, how many of the unit's best `classTop` images belong to it (empty
    /// without labels).
    public var classCounts: [Int]
    /// The theoretical receptive field `[height, width]` in input pixels.
    public var receptiveField: [Double]

    public init(layer: String, channel: Int, objective: Float, meanActivation: Float, patches: [Patch], classCounts: [Int], receptiveField: [Double]) {
        self.layer = layer
        self.channel = channel
        self.objective = objective
        self.meanActivation = meanActivation
        self.patches = patches
        self.classCounts = classCounts
        self.receptiveField = receptiveField
    }

    /// The record as JSON: keys sorted, so the same record is the same bytes.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public init(json data: Data, file: String) throws {
        do { self = try JSONDecoder().decode(MicroscopeUnit.self, from: data) } catch {
            throw ReadError(file, .corrupt, "not a microscope unit record (\(error)); delete it or run without --resume")
        }
    }
}
