/// A JSON document scanned once into a flat list of nodes (a tape), so that
/// decoding reads values by index instead of building a tree of objects.
///
/// The scanner is strict RFC 8259 (no comments, trailing commas, NaN or
/// leading zeros); anything it rejects is left to Foundation's decoder, which
/// then decides and words the error.
struct JSONTape {
    enum Kind: UInt8 {
        case object, array, string, escapedString, integer, number, `true`, `false`, null
    }

    /// One value. Strings span their bytes without the quotes; containers
    /// span their brackets, `count` is their number of members and `next` is
    /// the index of the node after their last member.
    struct Node {
        var kind: Kind
        var start: Int32
        var end: Int32
        var next: Int32
        var count: Int32
    }

    /// Why the fast path gave up; never shown to users (Foundation's decoder
    /// takes over and reports its own error).
    struct Unsupported: Error {}

    static let maximumDepth = 512

    private(set) var nodes: [Node] = []

    /// Scans all of `bytes`; throws ``Unsupported`` unless they hold exactly
    /// one JSON value (with whitespace around it).
    init(scanning bytes: UnsafeBufferPointer<UInt8>) throws(Unsupported) {
        guard bytes.count < Int32.max else { throw Unsupported() }
        var scanner = Scanner(bytes: bytes)
        nodes.reserveCapacity(16)
        scanner.skipWhitespace()
        try scanner.value(into: &nodes, depth: 0)
        scanner.skipWhitespace()
        guard scanner.position == bytes.count else { throw Unsupported() }
    }
}

extension JSONTape {
    fileprivate struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x0A, 0x0D, 0x09: position += 1
                default: return
                }
            }
        }

        mutating func value(into nodes: inout [Node], depth: Int) throws(Unsupported) {
            guard position < bytes.count, depth < JSONTape.maximumDepth else { throw Unsupported() }
            switch bytes[position] {
            case UInt8(ascii: "{"): try object(into: &nodes, depth: depth)
            case UInt8(ascii: "["): try array(into: &nodes, depth: depth)
            case UInt8(ascii: "\""): try string(into: &nodes)
            case UInt8(ascii: "t"): try literal("true", .true, into: &nodes)
            case UInt8(ascii: "f"): try literal("false", .false, into: &nodes)
            case UInt8(ascii: "n"): try literal("null", .null, into: &nodes)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number(into: &nodes)
            default: throw Unsupported()
            }
        }

        private mutating func object(into nodes: inout [Node], depth: Int) throws(Unsupported) {
            try container(.object, closing: UInt8(ascii: "}"), into: &nodes) { scanner, nodes throws(Unsupported) in
                guard scanner.position < scanner.bytes.count, scanner.bytes[scanner.position] == UInt8(ascii: "\"") else { throw Unsupported() }
                try scanner.string(into: &nodes)
                scanner.skipWhitespace()
                guard scanner.consume(UInt8(ascii: ":")) else { throw Unsupported() }
                scanner.skipWhitespace()
                try scanner.value(into: &nodes, depth: depth + 1)
            }
        }

        private mutating func array(into nodes: inout [Node], depth: Int) throws(Unsupported) {
            try container(.array, closing: UInt8(ascii: "]"), into: &nodes) { scanner, nodes throws(Unsupported) in
                try scanner.value(into: &nodes, depth: depth + 1)
            }
        }

        /// A container's node, then its comma-separated members, each
        /// scanned by `member`, up to `closing`.
        private mutating func container(
            _ kind: Kind, closing: UInt8, into nodes: inout [Node],
            member: (inout Scanner, inout [Node]) throws(Unsupported) -> Void
        ) throws(Unsupported) {
            let index = nodes.count
            nodes.append(Node(kind: kind, start: Int32(position), end: 0, next: 0, count: 0))
            position += 1
            skipWhitespace()
            var count: Int32 = 0
            if !consume(closing) {
                repeat {
                    skipWhitespace()
                    try member(&self, &nodes)
                    skipWhitespace()
                    count += 1
                } while consume(UInt8(ascii: ","))
                guard consume(closing) else { throw Unsupported() }
            }
            close(index, count: count, in: &nodes)
        }

        private func close(_ index: Int, count: Int32, in nodes: inout [Node]) {
            nodes[index].end = Int32(position)
            nodes[index].count = count
            nodes[index].next = Int32(nodes.count)
        }

        /// A string's bytes, checked: escapes well-formed (their meaning is
        /// read when decoded), no control characters, valid UTF-8.
        fileprivate mutating func string(into nodes: inout [Node]) throws(Unsupported) {
            position += 1
            let start = position
            var escaped = false
            var ascii = true
            while true {
                guard position < bytes.count else { throw Unsupported() }
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") { break }
                if byte < 0x20 { throw Unsupported() }
                if byte >= 0x80 { ascii = false }
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    position += 1
                    guard position < bytes.count else { throw Unsupported() }
                    switch bytes[position] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                         UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        break
                    case UInt8(ascii: "u"):
                        guard position + 4 < bytes.count,
                              (1...4).allSatisfy({ JSONTape.hexValue(bytes[position + $0]) != nil })
                        else { throw Unsupported() }
                        position += 4
                    default: throw Unsupported()
                    }
                }
                position += 1
            }
            if !ascii, String(validating: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self) == nil {
                throw Unsupported()
            }
            nodes.append(Node(kind: escaped ? .escapedString : .string, start: Int32(start), end: Int32(position), next: Int32(nodes.count + 1), count: 0))
            position += 1
        }

        /// A number per JSON's grammar; marked integer when it has neither a
        /// fraction nor an exponent.
        private mutating func number(into nodes: inout [Node]) throws(Unsupported) {
            let start = position
            _ = consume(UInt8(ascii: "-"))
            guard position < bytes.count else { throw Unsupported() }
            if bytes[position] == UInt8(ascii: "0") {
                position += 1
            } else {
                guard digits() > 0 else { throw Unsupported() }
            }
            var integer = true
            if consume(UInt8(ascii: ".")) {
                integer = false
                guard digits() > 0 else { throw Unsupported() }
            }
            if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
                integer = false
                if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
                guard digits() > 0 else { throw Unsupported() }
            }
            nodes.append(Node(kind: integer ? .integer : .number, start: Int32(start), end: Int32(position), next: Int32(nodes.count + 1), count: 0))
        }

        private mutating func digits() -> Int {
            let start = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            return position - start
        }

        private mutating func literal(_ text: StaticString, _ kind: Kind, into nodes: inout [Node]) throws(Unsupported) {
            let length = text.utf8CodeUnitCount
            guard position + length <= bytes.count else { throw Unsupported() }
            for offset in 0..<length where bytes[position + offset] != text.utf8Start[offset] { throw Unsupported() }
            nodes.append(Node(kind: kind, start: Int32(position), end: Int32(position + length), next: Int32(nodes.count + 1), count: 0))
            position += length
        }

        fileprivate mutating func consume(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
