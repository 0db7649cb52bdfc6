import Foundation

extension Duration {
    /// The duration in seconds, as Foundation's `TimeInterval`.
    var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}

extension NSCondition {
    /// Waits for a signal (the condition locked) until `deadline` at most.
    /// - Returns: `false`, without waiting, when `deadline` has passed already; otherwise `true` once woken or
    ///   timed out, and the caller checks its predicate again.
    func waitUnlessPast(_ deadline: ContinuousClock.Instant) -> Bool {
        let left = ContinuousClock.now.duration(to: deadline)
        guard left > .zero else { return false }
        _ = wait(until: Date(timeIntervalSinceNow: left.timeInterval))
        return true
    }
}
