import XCTest

@testable import Calibration

final class PlaceholderTests: XCTestCase {
    func testError() { XCTAssertEqual(PEtabError("x", file: "a.tsv", line: 3).description, "a.tsv:3: x") }
}
