import Foundation
import PropertyBased
import Testing

@testable import Shoal

/// The tape decoder must decode exactly what Foundation's decoder decodes,
/// and fail where it fails, with its error.
struct CanonicalJSONTests {
    @Test(arguments: [
        #"{"device":"d-1","reading":42,"tags":["a","b"],"flags":{"hot":true}}"#,
        #"  {"device":"\u00e9\ud83d\ude00\n\"q\"","reading":-9223372036854775808,"tags":[],"flags":{}}  "#,
        #"{"device":"d","reading":1,"tags":[],"flags":{},"celsius":-0.0,"small":-128,"big":18446744073709551615,"ratio":0.1}"#,
        #"{"device":"d","reading":1,"tags":[],"flags":{},"nested":{"at":12.5,"values":[1,null,3]}}"#,
        #"{"device":"é","reading":0,"tags":["x"],"flags":{"a":false,"a":true}}"#,
    ])
    func plainDocumentsDecodeOnTheFastPath(_ text: String) throws {
        let bytes = Array(text.utf8)
        let fast = try #require(bytes.withUnsafeBytes { CanonicalJSON.tapeDecode(Reading.self, from: $0) })
        #expect(fast == (try JSONDecoder().decode(Reading.self, from: Data(bytes))))
    }

    @Test(arguments: [
        #"{"device":"d","reading":1.0,"tags":[],"flags":{}}"#,  // Foundation takes 1.0 as an Int
        #"{"device":"d","reading":1e2,"tags":[],"flags":{}}"#,
        #"{"device":"\ud83d","reading":1,"tags":[],"flags":{}}"#,  // a lone surrogate
        #"{"device":"d","reading":1,"tags":[],"flags":{},}"#,  // a trailing comma
        #"{"device":"d","reading":1,"tags":[],"flags":{}} x"#,
        #"{"device":"d","reading":1,"tags":[],"flags":{},"small":128}"#,
        #"{"device":"d","reading":1,"tags":[],"flags":{},"ratio":3.4e39}"#,
        #"{"device":"d","reading":01,"tags":[],"flags":{}}"#,
        #"{"device":"d","reading":1,"tags":[],"flags":{},"celsius":1e-400}"#,  // underflow: refused
        #"{"device":"d","reading":1,"tags":[],"flags":{},"celsius":0e5}"#,  // refused too
        #"{"device":"d","reading":1,"tags":[],"flags":{},"ratio":1e-46}"#,
        #"{"device":"d","tags":[],"flags":{}}"#,
        "\u{FEFF}{\"device\":\"d\",\"reading\":1,\"tags\":[],\"flags\":{}}",
    ])
    func whatTheFastPathLeavesFoundationDecides(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { CanonicalJSON.tapeDecode(Reading.self, from: $0) } == nil)
        #expect(outcome(Reading.self, bytes) == foundationOutcome(Reading.self, bytes))
    }

    @Test func anyDocumentDecodesAsFoundationDecodesIt() async {
        await propertyCheck(count: 2_000, input: Gen.int(in: 0...Int.max)) { seed in
            var generator = RandomDocument(seed: UInt64(seed))
            let bytes = generator.document()
            let text = String(decoding: bytes, as: UTF8.self)
            if generator.isClean {
                #expect(bytes.withUnsafeBytes { CanonicalJSON.tapeDecode(Reading.self, from: $0) } != nil, "\(text)")
            }
            #expect(outcome(Reading.self, bytes).matches(foundationOutcome(Reading.self, bytes)), "\(text)")
            #expect(outcome(JSONValue.self, bytes).matches(foundationOutcome(JSONValue.self, bytes)), "\(text)")
            #expect(outcome(Counts.self, bytes).matches(foundationOutcome(Counts.self, bytes)), "\(text)")
        }
    }

    @Test func dataURLAndDecimalKeepFoundationsMeaning() throws {
        let bytes = Array(#"{"data":"AQI=","url":"https://example.com/a","amount":12.34}"#.utf8)
        let decoded = try CanonicalJSON.decode(Special.self, from: bytes)
        #expect(decoded.data == Data([1, 2]))
        #expect(decoded.url.absoluteString == "https://example.com/a")
        #expect(decoded.amount == Decimal(string: "12.34"))
    }

    private func outcome<T: Decodable & Equatable>(_ type: T.Type, _ bytes: [UInt8]) -> Outcome<T> {
        Outcome { try CanonicalJSON.decode(type, from: bytes) }
    }

    private func foundationOutcome<T: Decodable & Equatable>(_ type: T.Type, _ bytes: [UInt8]) -> Outcome<T> {
        Outcome { try JSONDecoder().decode(type, from: Data(bytes)) }
    }
}

/// A decoded value, or the error's description.
private enum Outcome<T: Equatable>: Equatable {
    case value(T)
    case error(String)

    init(_ body: () throws -> T) {
        do { self = .value(try body()) } catch { self = .error("\(error)") }
    }

    /// The same value, or both an error. Which of several bad members
    /// Foundation reports first depends on its dictionaries' order, which
    /// differs between two decodes of the same text.
    func matches(_ other: Outcome) -> Bool {
        switch (self, other) {
        case (.value(let mine), .value(let theirs)): mine == theirs
        case (.error, .error): true
        default: false
        }
    }
}

private struct Reading: Codable, Equatable {
    var device: String
    var reading: Int
    var celsius: Double?
    var tags: [String]
    var flags: [String: Bool]
    var nested: Nested?
    var small: Int8?
    var big: UInt64?
    var ratio: Float?

    struct Nested: Codable, Equatable {
        var at: Date
        var values: [Int?]
    }
}

private typealias Counts = [String: Int?]

private struct Special: Codable {
    var data: Data
    var url: URL
    var amount: Decimal
}

/// Any JSON value, decoded by trying each kind in turn with `try?`, the way
/// hand-written decoders often do.
private indirect enum JSONValue: Decodable, Equatable {
    case null, bool(Bool), int(Int), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let value = try? single.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? single.decode(Int.self) {
            self = .int(value)
        } else if let value = try? single.decode(Double.self) {
            self = .double(value)
        } else if let value = try? single.decode(String.self) {
            self = .string(value)
        } else if let value = try? single.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try single.decode([String: JSONValue].self))
        }
    }
}

/// Random JSON text shaped like a `Reading`. Half the documents are clean
/// (every field of its type, in any valid spelling: they must decode on the
/// fast path); the rest mix in the spellings where decoders tend to differ:
/// number forms, escapes, surrogates, bytes that are not UTF-8, duplicate
/// keys, wrong types, trailing commas and garbage, truncation.
private struct RandomDocument {
    private var state: UInt64
    private var clean = true
    /// Whether the last document is clean.
    var isClean: Bool { clean }

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    private mutating func pick<T>(_ choices: [T]) -> T { choices[Int(next() % UInt64(choices.count))] }
    private mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
    /// True only in documents that are not clean.
    private mutating func flaw(_ percent: UInt64) -> Bool { !clean && chance(percent) }

    mutating func document() -> [UInt8] {
        clean = chance(50)
        var bytes = Array(reading().utf8)
        if flaw(10) { bytes += pick([[0x20], Array(" x".utf8), [0xFF], Array(",".utf8)]) }
        if flaw(10), !bytes.isEmpty { bytes.removeLast(Int(next() % UInt64(bytes.count))) }
        if flaw(5) { bytes.insert(0xFF, at: Int(next() % UInt64(bytes.count + 1))) }
        return bytes
    }

    private mutating func reading() -> String {
        let fields: [(name: String, optional: Bool, value: (inout RandomDocument) -> String)] = [
            ("device", false, { $0.string() }), ("reading", false, { $0.integer(Int.self) }), ("celsius", true, { $0.double() }),
            ("tags", false, { $0.array { $0.string() } }),
            ("flags", false, { $0.object(keys: ["a", "b", "é", "\\u00e9"]) { $0.pick(["true", "false"]) } }),
            ("nested", true, { $0.nested() }), ("small", true, { $0.integer(Int8.self) }), ("big", true, { $0.integer(UInt64.self) }),
            ("ratio", true, { $0.double() }),
        ]
        var members: [String] = []
        for field in fields where !(field.optional && chance(30)) && !flaw(10) {
            let value = flaw(15) ? anyValue(depth: 0) : (field.optional && chance(10) ? "null" : field.value(&self))
            members.append("\(quoted(field.name))\(space()):\(space())\(value)")
            if chance(3) { members.append("\(quoted(field.name)):\(clean ? field.value(&self) : anyValue(depth: 0))") }
        }
        return "\(space()){\(members.shuffled(using: &self).joined(separator: ",\(space())"))\(flaw(5) ? "," : "")}\(space())"
    }

    private mutating func nested() -> String {
        let values = array { $0.chance(20) ? "null" : $0.integer(Int.self) }
        var members = ["\"at\":\(double())", "\"values\":\(values)"]
        if chance(30) { members.append("\"extra\":\(anyValue(depth: 1))") }
        return "{\(members.shuffled(using: &self).joined(separator: ","))}"
    }

    private mutating func anyValue(depth: Int) -> String {
        switch next() % (depth > 2 ? 4 : 6) {
        case 0: pick(clean ? ["null", "true", "false"] : ["null", "true", "false", "nul", "True"])
        case 1: integer(Int.self)
        case 2: double()
        case 3: string()
        case 4: array { $0.anyValue(depth: depth + 1) }
        default: object(keys: ["a", "b", "device", "reading"]) { $0.anyValue(depth: depth + 1) }
        }
    }

    private mutating func integer<T: FixedWidthInteger>(_ type: T.Type) -> String {
        if flaw(30) {
            return pick(["01", "1.0", "1e2", "-", "1.", "9223372036854775808", "18446744073709551616", "-129", "256", "\"7\"", "1e400"])
        }
        return pick(["0", "\(T.min)", "\(T.max)", "\(T.random(in: T.min...T.max, using: &self))", T.isSigned ? "-0" : "1"])
    }

    private mutating func double() -> String {
        if flaw(30) { return pick(["1e400", "3.4e39", ".5", "1.", "-", "1e-400", "NaN", "\"2.5\""]) }
        return pick(["0", "-0", "1.0", "1e2", "1E+2", "-1.5e-3", "0.1", "123456789.123456789", "-0.0", "\(Double.random(in: -1e6...1e6, using: &self))"])
    }

    private mutating func string() -> String {
        var pieces = ["plain", "d-1", "\\n", "\\t", "\\\"", "\\\\", "\\/", "\\u00e9", "\\u0041", "\\ud83d\\ude00", "é", "日本", " ", ""]
        if !clean { pieces += ["\\ud83d", "\\ude00x", "\u{01}", "\\x", "\\u12"] }
        return "\"" + (0..<Int(next() % 4)).map { _ in pick(pieces) }.joined() + "\""
    }

    private mutating func array(_ element: (inout RandomDocument) -> String) -> String {
        let items = (0..<Int(next() % 4)).map { _ in element(&self) }
        return "[\(space())\(items.joined(separator: ",\(space())"))\(flaw(5) ? "," : "")]"
    }

    private mutating func object(keys: [String], _ value: (inout RandomDocument) -> String) -> String {
        let members = (0..<Int(next() % 4)).map { _ in "\(quoted(pick(keys))):\(space())\(value(&self))" }
        return "{\(members.joined(separator: ","))}"
    }

    private mutating func space() -> String {
        guard chance(20) else { return "" }
        return pick(clean ? [" ", "\n", "\t", "\r\n "] : [" ", "\n", "\u{0B}"])
    }

    private func quoted(_ key: String) -> String { "\"\(key)\"" }
}

extension RandomDocument: RandomNumberGenerator {}
