import Foundation

/// `SITE/microscope.json`: the plan and one record per unit, in plan order.
public struct MicroscopeSiteRecords: Codable, Equatable, Sendable {
    public struct Layer: Codable, Equatable, Sendable {
        public var name: String
        public var channels: [Int]
    }

    public var model: String
    public var data: String
    public var settings: MicroscopePlan.Settings
    public var layers: [Layer]
    public var units: [MicroscopeUnit]

    public init(plan: MicroscopePlan, units: [MicroscopeUnit]) {
        model = plan.model
        data = plan.data
        settings = plan.settings
        layers = plan.layers.map { Layer(name: $0.name, channels: $0.channels) }
        self.units = units
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return try encoder.encode(self)
    }
}
