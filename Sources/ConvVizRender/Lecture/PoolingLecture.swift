import ConvVizCore
import Foundation

/// The course's pooling figures (being written: see LectureAtlas.ids).
struct PoolingLecture {
    let context: LectureContext

    func figures() throws -> [Report.Figure] { [] }
}
