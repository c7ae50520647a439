import XCTest
@testable import ConvVizCore

/// `learn-filters --record-every N`: which steps the recipe records.
final class GradientFilterRecipeRecordingTests: XCTestCase {
    func testRecordEveryAddsEveryNthStepToTheFilmstripSteps() {
        var recipe = GradientFilterRecipe()
        XCTAssertEqual(recipe.filmstripSteps, [0, 50, 200, 600, 2000])
        recipe.recordEvery = 500
        XCTAssertEqual(recipe.filmstripSteps, [0, 50, 200, 500, 600, 1000, 1500, 2000])
        recipe.steps = 7
        recipe.recordEvery = 3
        XCTAssertEqual(recipe.filmstripSteps, [0, 3, 6, 7])
    }
}
