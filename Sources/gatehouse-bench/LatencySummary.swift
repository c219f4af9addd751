import Foundation

/// Percentiles of a set of latencies (nearest-rank), kept in nanoseconds.
struct LatencySummary: Sendable {
    let count: Int
    let p50: Int64
    let p90: Int64
    let p99: Int64
    let max: Int64

    init(nanoseconds samples: [Int64]) {
        let sorted = samples.sorted()
        count = sorted.count
        func rank(_ fraction: Double) -> Int64 {
            guard !sorted.isEmpty else { return 0 }
            let index = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
            return sorted[Swift.min(Swift.max(index, 0), sorted.count - 1)]
        }
        p50 = rank(0.50)
        p90 = rank(0.90)
        p99 = rank(0.99)
        max = sorted.last ?? 0
    }

    /// A measured span in nanoseconds.
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Milliseconds with two decimals, for people and for the JSON lines.
    static func ms(_ nanoseconds: Int64) -> String {
        String(format: "%.2f", Double(nanoseconds) / 1_000_000)
    }
}
