import Foundation

/// A point in event time: milliseconds since the Unix epoch, as Kafka
/// record timestamps are. In JSON it is a plain number of milliseconds.
public struct EventTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    public init(_ date: Date) {
        milliseconds = Int64((date.timeIntervalSince1970 * 1_000).rounded(.down))
    }

    /// The earliest representable time.
    public static let distantPast = EventTime(milliseconds: .min)
    /// The latest representable time.
    public static let distantFuture = EventTime(milliseconds: .max)

    public var date: Date { Date(timeIntervalSince1970: Double(milliseconds) / 1_000) }

    public static func < (lhs: EventTime, rhs: EventTime) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// `time` moved by `duration` (whole milliseconds), saturating at the ends.
    public static func + (time: EventTime, duration: Duration) -> EventTime {
        EventTime(milliseconds: time.milliseconds.addingSaturating(duration.wholeMilliseconds))
    }

    public static func - (time: EventTime, duration: Duration) -> EventTime {
        EventTime(milliseconds: time.milliseconds.addingSaturating(-duration.wholeMilliseconds))
    }

    /// The time from `earlier` to this one.
    public static func - (time: EventTime, earlier: EventTime) -> Duration {
        .milliseconds(time.milliseconds.addingSaturating(-earlier.milliseconds))
    }

    public init(from decoder: any Decoder) throws {
        milliseconds = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(milliseconds)
    }

    public var description: String { "\(milliseconds) ms" }
}

extension Duration {
    /// Seconds, as Foundation's dates count them.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Whole milliseconds, saturating.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        return product.addingSaturating(attoseconds / 1_000_000_000_000_000)
    }
}

extension Int64 {
    func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other < 0 ? .min : .max
    }
}
