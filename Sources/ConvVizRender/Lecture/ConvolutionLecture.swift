import ConvVizCore
import Foundation

/// The course's convolution figures (being written: see LectureAtlas.ids).
struct ConvolutionLecture {
    let context: LectureContext

    func figures() throws -> [Report.Figure] { [] }
}
