/// What a window keeps of its events: a value that takes inputs and, for
/// session windows, merges with another window's.
public protocol WindowAggregate: Codable, Sendable {
    associatedtype Input
    /// The aggregate of no events.
    init()
    mutating func add(_ input: Input)
    /// Takes in the aggregate of another window (sessions that merge).
    mutating func merge(_ other: Self)
}

/// The number of events.
public struct WindowCount<Input>: WindowAggregate, Hashable {
    public var count = 0
    public init() {}
    public mutating func add(_ input: Input) { count += 1 }
    public mutating func merge(_ other: Self) { count += other.count }
}

extension WindowCount: Sendable {}

extension WindowCount: Codable {
    public init(from decoder: any Decoder) throws {
        count = try decoder.singleValueContainer().decode(Int.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(count)
    }
}

/// Count, sum, minimum and maximum of numbers.
public struct WindowStatistics<Value: Numeric & Comparable & Codable & Sendable>: WindowAggregate {
    public var count = 0
    public var sum: Value = .zero
    public var minimum: Value?
    public var maximum: Value?

    public init() {}

    public mutating func add(_ input: Value) {
        count += 1
        sum += input
        minimum = Swift.min(minimum ?? input, input)
        maximum = Swift.max(maximum ?? input, input)
    }

    public mutating func merge(_ other: Self) {
        count += other.count
        sum += other.sum
        minimum = [minimum, other.minimum].compactMap { $0 }.min()
        maximum = [maximum, other.maximum].compactMap { $0 }.max()
    }
}

extension WindowStatistics: Equatable where Value: Equatable {}
extension WindowStatistics: Hashable where Value: Hashable {}
