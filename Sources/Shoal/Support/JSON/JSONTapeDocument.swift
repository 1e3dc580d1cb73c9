import Foundation

/// A scanned document and the reading of its scalar values. It points into
/// the caller's bytes, so it lives only for one decode call (see
/// ``CanonicalJSON/decode(_:from:)``).
final class JSONTapeDocument {
    typealias Unsupported = JSONTape.Unsupported

    let bytes: UnsafeBufferPointer<UInt8>
    let nodes: [JSONTape.Node]

    init(_ bytes: UnsafeBufferPointer<UInt8>) throws(Unsupported) {
        self.bytes = bytes
        nodes = try JSONTape(scanning: bytes).nodes
    }

    /// Set when any read gave up, even one the decoded type caught with
    /// `try?`: the result is then Foundation's, not this decoder's.
    private(set) var gaveUp = false

    func kind(_ node: Int) -> JSONTape.Kind { nodes[node].kind }

    /// Notes that the fast path gave up and returns the error to throw.
    func unsupported() -> Unsupported {
        gaveUp = true
        return Unsupported()
    }

    /// The value node of `object`'s first member named `key` (Foundation's
    /// decoder also takes the first of duplicate keys).
    func member(of object: Int, named key: String) -> Int? {
        var key = key
        return key.withUTF8 { wanted in
            var cursor = object + 1
            for _ in 0..<nodes[object].count {
                if keyEquals(cursor, wanted) { return cursor + 1 }
                cursor = Int(nodes[cursor + 1].next)
            }
            return nil
        }
    }

    /// `object`'s member names and value nodes, in document order.
    func members(of object: Int) -> [(name: String, value: Int)] {
        var cursor = object + 1
        var members: [(String, Int)] = []
        for _ in 0..<nodes[object].count {
            if let name = try? string(cursor) { members.append((name, cursor + 1)) }
            cursor = Int(nodes[cursor + 1].next)
        }
        return members
    }

    private func keyEquals(_ node: Int, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        let span = nodes[node]
        if span.kind == .escapedString { return (try? string(node)).map { $0.utf8.elementsEqual(wanted) } ?? false }
        guard Int(span.end - span.start) == wanted.count else { return false }
        guard let base = bytes.baseAddress, let other = wanted.baseAddress else { return wanted.isEmpty }
        return memcmp(base + Int(span.start), other, wanted.count) == 0
    }

    // MARK: Scalars

    func bool(_ node: Int) throws(Unsupported) -> Bool {
        switch nodes[node].kind {
        case .true: true
        case .false: false
        default: throw unsupported()
        }
    }

    func string(_ node: Int) throws(Unsupported) -> String {
        let span = nodes[node]
        let text = UnsafeBufferPointer(rebasing: bytes[Int(span.start)..<Int(span.end)])
        switch span.kind {
        case .string: return String(decoding: text, as: UTF8.self)
        case .escapedString:
            do { return try Self.unescape(text) } catch { throw unsupported() }
        default: throw unsupported()
        }
    }

    /// An integer written without fraction or exponent that fits `T`
    /// (other spellings, like `1.0`, are left to Foundation).
    func integer<T: FixedWidthInteger>(_ node: Int, as type: T.Type) throws(Unsupported) -> T {
        let span = nodes[node]
        guard span.kind == .integer else { throw unsupported() }
        var position = Int(span.start)
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        var magnitude: UInt64 = 0
        while position < Int(span.end) {
            let (shifted, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, carry) = shifted.addingReportingOverflow(UInt64(bytes[position] - UInt8(ascii: "0")))
            guard !overflow, !carry else { throw unsupported() }
            magnitude = sum
            position += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw unsupported() }
            let value = magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
            guard let exact = T(exactly: value) else { throw unsupported() }
            return exact
        }
        guard let exact = T(exactly: magnitude) else { throw unsupported() }
        return exact
    }

    /// A number Foundation reads the same way: finite, and not zero unless
    /// written as a plain zero (Foundation refuses underflow, and `0e5`).
    func double(_ node: Int) throws(Unsupported) -> Double {
        let span = nodes[node]
        guard span.kind == .integer || span.kind == .number else { throw unsupported() }
        let text = UnsafeBufferPointer(rebasing: bytes[Int(span.start)..<Int(span.end)])
        guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else { throw unsupported() }
        if value == 0, span.kind == .number, text.contains(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") || (UInt8(ascii: "1")...UInt8(ascii: "9")).contains($0) }) {
            throw unsupported()
        }
        return value
    }

    /// A number that is a normal `Float` (or zero) whichever way it is
    /// rounded, through `Double` or directly; the rest is left to Foundation.
    func float(_ node: Int) throws(Unsupported) -> Float {
        let value = try double(node)
        let span = nodes[node]
        let direct = Float(String(decoding: UnsafeBufferPointer(rebasing: bytes[Int(span.start)..<Int(span.end)]), as: UTF8.self))
        guard let direct, direct == Float(value), direct.isNormal || value == 0 else { throw unsupported() }
        return direct
    }

    /// The text of a string with escapes, which the scanner checked are
    /// well-formed; a lone surrogate is left to Foundation.
    private static func unescape(_ text: UnsafeBufferPointer<UInt8>) throws(Unsupported) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var position = 0
        while position < text.count {
            let byte = text[position]
            position += 1
            guard byte == UInt8(ascii: "\\") else {
                result.append(byte)
                continue
            }
            let escape = text[position]
            position += 1
            switch escape {
            case UInt8(ascii: "b"): result.append(0x08)
            case UInt8(ascii: "f"): result.append(0x0C)
            case UInt8(ascii: "n"): result.append(0x0A)
            case UInt8(ascii: "r"): result.append(0x0D)
            case UInt8(ascii: "t"): result.append(0x09)
            case UInt8(ascii: "u"):
                let scalar = try unicodeScalar(text, at: &position)
                result.append(contentsOf: String(Character(scalar)).utf8)
            default: result.append(escape)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// The scalar of a `\u` escape whose four hex digits start at
    /// `position`, joining a surrogate pair.
    private static func unicodeScalar(_ text: UnsafeBufferPointer<UInt8>, at position: inout Int) throws(Unsupported) -> Unicode.Scalar {
        let first = hex4(text, position)
        position += 4
        if let scalar = Unicode.Scalar(first) { return scalar }
        // A high surrogate must be followed by `\u` and a low surrogate.
        guard (0xD800...0xDBFF).contains(first), position + 6 <= text.count,
              text[position] == UInt8(ascii: "\\"), text[position + 1] == UInt8(ascii: "u")
        else { throw Unsupported() }
        let second = hex4(text, position + 2)
        guard (0xDC00...0xDFFF).contains(second),
              let scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
        else { throw Unsupported() }
        position += 6
        return scalar
    }

    private static func hex4(_ text: UnsafeBufferPointer<UInt8>, _ position: Int) -> UInt32 {
        (0..<4).reduce(0) { ($0 << 4) | (JSONTape.hexValue(text[position + $1]) ?? 0) }
    }
}
