/// The shared look of every ConvViz figure: one font family, one set of sizes, margins
/// and colours, so the figures of a report read as a designed set.
public enum Theme {
    public static let margin: Double = 16
    public static let titleSize: Double = 15
    public static let labelSize: Double = 10
    public static let captionSize: Double = 10
    public static let smallSize: Double = 8
    public static let ink = Color(0.13, 0.13, 0.15)
    public static let muted = Color(0.42, 0.42, 0.46)
    public static let warning = Color(0.85, 0.0, 0.55)
    public static let grid = Color(0.85, 0.85, 0.88)
    /// Categorical colours (Okabe-Ito, colour-blind safe) for runs, layers, groups.
    public static let series: [Color] = [
        Color(0.0, 0.45, 0.70), Color(0.90, 0.62, 0.0), Color(0.0, 0.62, 0.45), Color(0.80, 0.40, 0.0),
        Color(0.34, 0.71, 0.91), Color(0.80, 0.47, 0.65), Color(0.94, 0.89, 0.26), Color(0.0, 0.0, 0.0),
    ]
}
