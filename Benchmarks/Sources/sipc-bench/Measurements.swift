import Foundation

/// Median, p99 (nearest rank) and mean of a sample.
struct Stats {
    var count: Int
    var median: Double
    var p99: Double
    var mean: Double

    init(_ values: [Double]) {
        let sorted = values.sorted()
        count = sorted.count
        guard !sorted.isEmpty else {
            (median, p99, mean) = (.nan, .nan, .nan)
            return
        }
        let n = sorted.count
        median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        p99 = sorted[max(0, Int((Double(n) * 0.99).rounded(.up)) - 1)]
        mean = sorted.reduce(0, +) / Double(n)
    }
}

func median(_ values: [Double]) -> Double { Stats(values).median }

/// One compared figure: the bridged value, the all-Wine value, and how they compare.
struct Comparison {
    enum Better { case lower, higher }
    var name: String
    var unit: String
    var bridged: Double
    var baseline: Double
    var better: Better
    /// The ratio bridged / all-Wine must stay at or under this (lower is better) or at or over it (higher).
    var target: Double?
    var note: String = ""

    var ratio: Double { bridged / baseline }
    var met: Bool? {
        guard let target, ratio.isFinite else { return nil }
        return better == .lower ? ratio <= target : ratio >= target
    }
}

struct ThroughputRow {
    var clients: Int
    var bridged: [Double]
    var baseline: [Double]
    /// The C server making one native round trip per call (relay-echo); empty when not measured.
    var roundTrip: [Double]
}

struct CopyResult {
    var size: Int
    /// Per direction: MB/s median, or a failure text.
    var rate: Double?
    var medianMicroseconds: Double?
    var samples: Int
    var failure: String?
}

/// Everything one run measured.
final class Results {
    var started = Date()
    var latency: [Comparison] = []
    var latencyNotes: [String] = []
    var breakdown: [(String, Double, Double)] = []
    var throughput: [ThroughputRow] = []
    var recursion: [Comparison] = []
    var copyData: [(size: Int, winToWin: CopyResult, winToHost: CopyResult, hostToWin: CopyResult)] = []
    var copyNotes: [String] = []
    var rss: (startKiB: Int, beforeKiB: Int, afterKiB: Int, calls: Int, seconds: Double)? = nil
    var shimRss: (beforeKiB: Int, afterKiB: Int)? = nil
    var codecText: String? = nil
    var problems: [String] = []
}
