import Foundation
import PropertyBased
import Testing

@testable import Shoal

/// The fast encoder must write exactly the bytes Foundation's `JSONEncoder`
/// (sorted keys) writes, and leave to it whatever it cannot write so.
struct CanonicalJSONEncodingTests {
    /// Bytes, or the error's description.
    private enum Outcome: Equatable {
        case bytes([UInt8])
        case error(String)

        init(_ body: () throws -> [UInt8]) {
            do { self = .bytes(try body()) } catch { self = .error("\(error)") }
        }

        func get() throws -> [UInt8] {
            guard case .bytes(let bytes) = self else { throw CancellationError() }
            return bytes
        }
    }

    private func foundation(_ value: some Encodable) -> Outcome {
        Outcome { Array(try CanonicalJSON.encoder.encode(value)) }
    }

    private func fast(_ value: some Encodable) -> Outcome {
        Outcome { try CanonicalJSON.encode(value) }
    }

    @Test func statesAndOutputsAreWrittenOnTheFastPath() throws {
        let value = Shape(
            name: "d/1 \"é\" \u{1}\u{1F}\t\n\r\u{8}\u{C}\\ 😀", count: -42, big: .max, small: .min, ratio: 0.1, whole: 3.0,
            tiny: 1e-7, huge: 1e300, negativeZero: -0.0, single: 1.5, flags: ["b": true, "a": false, "B": true, "aa": nil],
            list: [1, 2, 3], nested: [Shape.Point(x: 1, y: -2)], optional: nil, keyedByInt: [10: "ten", 2: "two"]
        )
        let bytes = try CanonicalJSON.tapeEncoded(value)
        #expect(String(decoding: bytes, as: UTF8.self) == String(decoding: try foundation(value).get(), as: UTF8.self))
    }

    @Test func emptyAndTopLevelValuesMatch() throws {
        #expect(try CanonicalJSON.tapeEncoded([String: Int]()) == foundation([String: Int]()).get())
        #expect(try CanonicalJSON.tapeEncoded([Int]()) == foundation([Int]()).get())
        #expect(try CanonicalJSON.tapeEncoded("a/b") == foundation("a/b").get())
        #expect(try CanonicalJSON.tapeEncoded(7) == foundation(7).get())
        #expect(try CanonicalJSON.tapeEncoded(Optional<Int>.none) == foundation(Optional<Int>.none).get())
    }

    /// Values Foundation writes its own way, or refuses: the fast path gives
    /// up, and the result (bytes or error) is Foundation's.
    @Test func whatTheFastPathLeavesFoundationDecides() {
        let cases: [any Encodable] = [
            Date(timeIntervalSince1970: 12.5), Data([1, 2, 3]), URL(string: "https://example.com/a")!, Decimal(string: "12.34")!,
            Double.nan, [Double.infinity], Twice(), Nothing(), WithSuper(),
        ]
        for value in cases {
            #expect(throws: (any Error).self, "\(value)") { try CanonicalJSON.tapeEncoded(value) }
            #expect(fast(value) == foundation(value), "\(value)")
        }
    }

    @Test func anyValueIsWrittenAsFoundationWritesIt() async {
        await propertyCheck(count: 2_000, input: Gen.int(in: 0...Int.max)) { seed in
            var random = RandomValue(seed: UInt64(seed))
            let value = random.value(depth: 0)
            #expect(fast(value) == foundation(value), "\(value)")
            #expect((try? CanonicalJSON.tapeEncoded(value)) != nil || !value.isFinite, "\(value)")
        }
    }
}

private struct Shape: Codable {
    struct Point: Codable {
        var x: Int
        var y: Int
    }

    var name: String
    var count: Int
    var big: UInt64
    var small: Int64
    var ratio: Double
    var whole: Double
    var tiny: Double
    var huge: Double
    var negativeZero: Double
    var single: Float
    var flags: [String: Bool?]
    var list: [Int8]
    var nested: [Point]
    var optional: String?
    var keyedByInt: [Int: String]
}

/// Encodes one key twice.
private struct Twice: Encodable {
    enum Keys: CodingKey { case a }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(1, forKey: .a)
        try container.encode(2, forKey: .a)
    }
}

/// Encodes nothing at all.
private struct Nothing: Encodable {
    func encode(to encoder: any Encoder) throws {}
}

/// Asks for a super encoder.
private struct WithSuper: Encodable {
    enum Keys: CodingKey { case a }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(1, forKey: .a)
        try 2.encode(to: container.superEncoder())
    }
}

/// A random JSON-like value; its encoding is what is compared.
private indirect enum Value: Encodable, CustomStringConvertible {
    case null, bool(Bool), int(Int), double(Double), float(Float), string(String), array([Value]), object([String: Value])

    func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        switch self {
        case .null: try single.encodeNil()
        case .bool(let value): try single.encode(value)
        case .int(let value): try single.encode(value)
        case .double(let value): try single.encode(value)
        case .float(let value): try single.encode(value)
        case .string(let value): try single.encode(value)
        case .array(let value): try single.encode(value)
        case .object(let value): try single.encode(value)
        }
    }

    var isFinite: Bool {
        switch self {
        case .double(let value): value.isFinite
        case .float(let value): value.isFinite
        case .array(let values): values.allSatisfy(\.isFinite)
        case .object(let members): members.values.allSatisfy(\.isFinite)
        default: true
        }
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .int(let value): "\(value)"
        case .double(let value): "double \(value)"
        case .float(let value): "float \(value)"
        case .string(let value): value.debugDescription
        case .array(let values): "[\(values.map(\.description).joined(separator: ", "))]"
        case .object(let members): "{\(members.map { "\($0.key.debugDescription): \($0.value)" }.joined(separator: ", "))}"
        }
    }
}

private struct RandomValue {
    var state: UInt64

    init(seed: UInt64) { state = seed | 1 }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    private mutating func pick<T>(_ choices: [T]) -> T { choices[Int(next() % UInt64(choices.count))] }

    mutating func value(depth: Int) -> Value {
        switch next() % (depth < 3 ? 8 : 6) {
        case 0: .null
        case 1: .bool(next() % 2 == 0)
        case 2: .int(pick([0, 1, -1, Int.max, Int.min, Int(truncatingIfNeeded: next()), Int(next() % 1000)]))
        case 3: .double(double())
        case 4: next() % 2 == 0 ? .float(Float(bitPattern: UInt32(truncatingIfNeeded: next()))) : .string(string())
        case 5: .string(string())
        case 6: .array((0..<Int(next() % 4)).map { _ in value(depth: depth + 1) })
        default: .object(Dictionary((0..<Int(next() % 5)).map { _ in (string(), value(depth: depth + 1)) }) { first, _ in first })
        }
    }

    private mutating func double() -> Double {
        pick([
            0, -0.0, 1, 0.1, 1e-7, 1e16, 1e300, 123456789.125, -2.5, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
            Double(bitPattern: next()), Double(Int(truncatingIfNeeded: next()) % 1_000_000) / 100,
        ])
    }

    private mutating func string() -> String {
        let pieces = ["a", "B", "é", "😀", "/", "\\", "\"", "\u{0}", "\u{1F}", "\u{7F}", "\n", "\t", " ", "key", "10", "2", "\u{2028}"]
        return (0..<Int(next() % 5)).map { _ in pick(pieces) }.joined()
    }
}
