import ConvVizCore
import Foundation

/// The course's normalization figures (being written: see LectureAtlas.ids).
struct NormalizationLecture {
    let context: LectureContext

    func figures() throws -> [Report.Figure] { [] }
}
