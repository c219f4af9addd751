import DomainTestSupport
import Foundation
import Testing

import ApprovalCore

/// Expected texts computed with Python's `datetime.fromtimestamp(t, timezone.utc)`.
@Suite("RFC3339")
struct RFC3339Tests {
    @Test(
        "string(from:) writes UTC with a Z and whole seconds",
        arguments: [
            (0.0, "1970-01-01T00:00:00Z"),
            (1_795_310_563, "2026-11-22T01:22:43Z"),
            (1_709_210_096, "2024-02-29T12:34:56Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (4_107_542_399, "2100-02-28T23:59:59Z"),
            (4_107_542_400, "2100-03-01T00:00:00Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (-86_400, "1969-12-31T00:00:00Z"),
            (-86_401, "1969-12-30T23:59:59Z"),
            (-14_182_940, "1969-07-20T20:17:40Z"),
            (-2_208_988_800, "1900-01-01T00:00:00Z"),
            (-11_670_912_000, "1600-03-01T00:00:00Z"),
            (-62_135_596_800, "0001-01-01T00:00:00Z"),
        ] as [(TimeInterval, String)]
    )
    func format(seconds: TimeInterval, expected: String) {
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test("fractions of a second are dropped, rounding towards the past, also before 1970")
    func fractions() {
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 1_795_310_563.999)) == "2026-11-22T01:22:43Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: -86_399.5)) == "1969-12-31T00:00:00Z")
    }

    @Test(
        "date(from:) reads Z, offsets and fractional seconds",
        arguments: [
            ("2026-11-22T01:22:43Z", 1_795_310_563.0),
            ("2026-11-22T03:22:43+02:00", 1_795_310_563),
            ("2026-11-21T20:22:43-05:00", 1_795_310_563),
            ("2026-11-22T01:22:43.250Z", 1_795_310_563.25),
            ("2024-02-29T12:34:56Z", 1_709_210_096),
            ("1969-12-31T23:59:59Z", -1),
            ("1900-01-01T00:00:00Z", -2_208_988_800),
        ] as [(String, TimeInterval)]
    )
    func parse(text: String, seconds: TimeInterval) throws {
        let date = try #require(RFC3339.date(from: text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_5)
    }

    @Test(
        "date(from:) refuses text that is not RFC 3339",
        arguments: ["", "not a date", "2026-11-22", "2026-11-22 01:22:43Z", "2026-13-01T00:00:00Z", "2026-11-22T01:22:43", "1795310563"]
    )
    func parseRefused(text: String) {
        #expect(RFC3339.date(from: text) == nil)
    }

    @Test(
        "string(from:) then date(from:) round-trips whole seconds",
        arguments: [0.0, 1_795_310_563, 1_709_210_096, 951_782_400, -1, -14_182_940, -2_208_988_800, 4_107_542_400] as [TimeInterval]
    )
    func roundTrip(seconds: TimeInterval) throws {
        let date = Date(timeIntervalSince1970: seconds)
        let text = RFC3339.string(from: date)
        #expect(try #require(RFC3339.date(from: text)) == date)
    }
}
