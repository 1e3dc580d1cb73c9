import Shoal

/// A generator's events in the order their source delivers them: each
/// held back by its own delay (so slightly out of order in event time).
public struct DeliveryQueue<Event: Encodable> {
    private var events: [(event: Event, delivery: Int64)] = []

    public init() {}

    /// How many events it holds.
    public var count: Int { events.count }

    /// Adds `event`, delivered at `delivery` (milliseconds).
    public mutating func add(_ event: Event, deliveredAt delivery: Int64) {
        events.append((event, delivery))
    }

    /// The events as records on `topic`, in delivery order, ties broken by
    /// `before` so that the same events always give the same records.
    public func records(
        topic: String, key: (Event) -> String, ties before: (Event, Event) -> Bool
    ) -> [LoadRecord] {
        records(topic: { _ in topic }, key: key, ties: before)
    }

    /// The events as records, each on the topic `topic` gives it, in
    /// delivery order, ties broken by `before`.
    public func records(
        topic: (Event) -> String, key: (Event) -> String, ties before: (Event, Event) -> Bool
    ) -> [LoadRecord] {
        let ordered = events.sorted { left, right in
            left.delivery != right.delivery ? left.delivery < right.delivery : before(left.event, right.event)
        }
        // The samples' events hold plain finite values: encoding cannot fail.
        return ordered.map { try! LoadRecord(topic: topic($0.event), key: key($0.event), json: $0.event) }
    }
}
