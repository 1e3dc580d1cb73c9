/// An event a pattern holds on to: its time and what the entity keeps of it.
public struct PatternEvent<Value: Codable & Sendable>: Codable, Sendable {
    public var at: EventTime
    public var value: Value

    public init(at: EventTime, value: Value) {
        self.at = at
        self.value = value
    }
}

extension PatternEvent: Equatable where Value: Equatable {}
extension PatternEvent: Hashable where Value: Hashable {}

extension Array {
    /// Inserts keeping the array sorted by `key` (after equal keys).
    mutating func insertSorted<Key: Comparable>(_ element: Element, by key: (Element) -> Key) {
        let position = firstIndex { key($0) > key(element) } ?? endIndex
        insert(element, at: position)
    }
}
