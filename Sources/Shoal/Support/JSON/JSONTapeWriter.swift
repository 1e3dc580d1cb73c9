import Foundation

/// The fast path of ``CanonicalJSON/encode(_:)``: collects what an
/// `Encodable` value encodes into a flat list of nodes, then writes it as
/// Foundation's `JSONEncoder` with sorted keys writes it, byte for byte (keys
/// in UTF-8 order; `"`, `\`, `/` and control characters escaped; numbers as
/// their `description`, a whole floating-point number without its `.0`).
///
/// What it does not write exactly so (dates, data, URLs, decimals, a
/// non-finite number, a key set twice, a super encoder, a value that encodes
/// nothing, any error) marks the writer failed, and Foundation encodes the
/// value again: its output and its errors stay the answer.
final class JSONTapeWriter {
    typealias Unsupported = JSONTape.Unsupported

    enum Node {
        case pending
        /// Bytes of `scalars`, already in their JSON form.
        case scalar(start: Int, end: Int)
        case object(Int)
        case array(Int)
    }

    // Unchecked: the writer belongs to one encode call on one thread, and
    // the runtime's exclusivity checks on these were ~2% of an encode.
    @exclusivity(unchecked) private(set) var nodes: [Node] = []
    @exclusivity(unchecked) private var scalars: [UInt8] = []
    @exclusivity(unchecked) private var objects: [[(key: String, node: Int)]] = []
    @exclusivity(unchecked) private var arrays: [[Int]] = []
    /// Set when something was asked that the fast path leaves to Foundation.
    private(set) var failed = false

    init() {
        nodes.reserveCapacity(8)
        scalars.reserveCapacity(64)
    }

    /// Notes that the fast path gave up and returns the error to throw.
    @discardableResult
    func unsupported() -> Unsupported {
        failed = true
        return Unsupported()
    }

    func newNode() -> Int {
        nodes.append(.pending)
        return nodes.count - 1
    }

    /// The object at `node`, made one when still pending (asking twice gives
    /// the same object, as Foundation merges them).
    func object(at node: Int) -> Int {
        switch nodes[node] {
        case .object(let object): return object
        case .pending:
            objects.append([])
            nodes[node] = .object(objects.count - 1)
            return objects.count - 1
        default:
            unsupported()
            return object(at: newNode())
        }
    }

    /// The array at `node`, made one when still pending.
    func array(at node: Int) -> Int {
        switch nodes[node] {
        case .array(let array): return array
        case .pending:
            arrays.append([])
            nodes[node] = .array(arrays.count - 1)
            return arrays.count - 1
        default:
            unsupported()
            return array(at: newNode())
        }
    }

    func add(_ key: String, _ node: Int, to object: Int) {
        objects[object].append((key, node))
    }

    func append(_ node: Int, to array: Int) {
        arrays[array].append(node)
    }

    func count(of array: Int) -> Int { arrays[array].count }

    /// Sets a pending `node` to the scalar `write` appends.
    func setScalar(_ node: Int, _ write: (inout [UInt8]) throws -> Void) throws(Unsupported) {
        guard case .pending = nodes[node] else { throw unsupported() }
        let start = scalars.count
        do {
            try write(&scalars)
        } catch {
            throw unsupported()
        }
        nodes[node] = .scalar(start: start, end: scalars.count)
    }

    /// A new node holding the scalar `write` appends.
    func scalar(_ write: (inout [UInt8]) throws -> Void) throws(Unsupported) -> Int {
        let node = newNode()
        try setScalar(node, write)
        return node
    }

    // MARK: Writing out

    /// The document rooted at node 0.
    func written() throws(Unsupported) -> [UInt8] {
        guard !failed, !nodes.isEmpty else { throw unsupported() }
        var out: [UInt8] = []
        out.reserveCapacity(scalars.count + 16 * objects.count + 8)
        let serializer = Serializer(nodes: nodes, scalars: scalars, objects: objects, arrays: arrays)
        try serializer.write(0, into: &out, depth: 0)
        return out
    }

    /// The collected nodes, read once into constants: reading the writer's
    /// properties retained and released each array at every node.
    private struct Serializer {
        let nodes: [Node]
        let scalars: [UInt8]
        let objects: [[(key: String, node: Int)]]
        let arrays: [[Int]]

        func write(_ node: Int, into out: inout [UInt8], depth: Int) throws(Unsupported) {
            guard depth < JSONTape.maximumDepth else { throw Unsupported() }
            switch nodes[node] {
            case .pending:
                throw Unsupported()
            case .scalar(let start, let end):
                out.append(contentsOf: scalars[start..<end])
            case .array(let array):
                out.append(UInt8(ascii: "["))
                for (index, element) in arrays[array].enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    try write(element, into: &out, depth: depth + 1)
                }
                out.append(UInt8(ascii: "]"))
            case .object(let object):
                try writeObject(object, into: &out, depth: depth)
            }
        }

        private func writeObject(_ object: Int, into out: inout [UInt8], depth: Int) throws(Unsupported) {
            let members = objects[object].sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 {
                    // A key set twice: Foundation keeps one of them by its own rules.
                    guard members[index - 1].key != member.key else { throw Unsupported() }
                    out.append(UInt8(ascii: ","))
                }
                JSONTapeWriter.appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                try write(member.node, into: &out, depth: depth + 1)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

extension JSONTapeWriter {
    /// `string` quoted and escaped as Foundation's writer escapes it.
    static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0x0F))
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// An integer's decimal digits.
    static func appendInteger<Integer: FixedWidthInteger>(_ value: Integer, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = UInt64(truncatingIfNeeded: value.magnitude)
        // Digits come out last first: count them, then fill from the end.
        var count = 1
        var probe = magnitude / 10
        while probe > 0 {
            count += 1
            probe /= 10
        }
        var position = out.count + count - 1
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
        repeat {
            out[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            position -= 1
        } while magnitude > 0
    }

    /// A finite floating-point number as Foundation writes it: its
    /// `description` without a trailing `.0`. Throws for NaN and infinities
    /// (Foundation's default refuses them, with its own error).
    static func appendFloat<Float: BinaryFloatingPoint & CustomStringConvertible>(
        _ value: Float, to out: inout [UInt8]
    ) throws(Unsupported) {
        guard value.isFinite else { throw Unsupported() }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        out.append(contentsOf: text.utf8)
    }
}
