import Foundation

/// A call's request and reply as they cross between nodes.
extension EntityCall {
    /// Bounds on what one call may carry: a peer that sends more is refused.
    static let maxArguments = 64
    static let maxGenericSubstitutions = 16
    static let maxTraceFields = 8
    static let wireVersion: UInt8 = 1

    func encoded() -> [UInt8] {
        var writer = WireWriter()
        writer.write(Self.wireVersion)
        writer.write(id.type)
        writer.write(id.key)
        writer.write(target)
        writer.write(callID ?? "")
        writer.write(UInt64(invocation.genericSubstitutions.count))
        for name in invocation.genericSubstitutions { writer.write(name) }
        writer.write(UInt64(invocation.arguments.count))
        for argument in invocation.arguments { writer.write(argument) }
        writer.write(invocation.throwsErrors ? 1 as UInt8 : 0)
        // Last and only when there is one: a call that carries no trace is
        // the same bytes as before calls were traced.
        if let traceContext, !traceContext.isEmpty {
            writer.write(UInt64(traceContext.count))
            for (name, value) in traceContext.sorted(by: { $0.key < $1.key }) {
                writer.write(name)
                writer.write(value)
            }
        }
        return writer.bytes
    }

    init(decoding bytes: [UInt8]) throws {
        var reader = WireReader(bytes)
        let version = try reader.readByte()
        guard version == Self.wireVersion else {
            throw ShoalError(code: .invocation, reason: "a remote call in wire version \(version); this node speaks \(Self.wireVersion)")
        }
        let id = EntityID(type: try reader.readString(), key: try reader.readString())
        let target = try reader.readString()
        let callID = try reader.readString()
        var invocation = ShoalInvocation()
        for _ in 0..<(try reader.readCount(limit: Self.maxGenericSubstitutions)) {
            invocation.genericSubstitutions.append(try reader.readString())
        }
        for _ in 0..<(try reader.readCount(limit: Self.maxArguments)) {
            invocation.arguments.append(Data(try reader.readBytes()))
        }
        invocation.throwsErrors = try reader.readByte() != 0
        var traceContext: [String: String]?
        if !reader.isAtEnd {
            let count = try reader.readCount(limit: Self.maxTraceFields)
            guard count > 0 else { throw ShoalError(code: .invocation, reason: "a remote call's trace context has no fields") }
            var fields: [String: String] = [:]
            for _ in 0..<count { fields[try reader.readString()] = try reader.readString() }
            traceContext = fields
        }
        guard reader.isAtEnd else { throw ShoalError(code: .invocation, reason: "a remote call has bytes after its last field") }
        self.init(id: id, target: target, invocation: invocation, callID: callID.isEmpty ? nil : callID)
        self.traceContext = traceContext
    }
}

extension ShoalResultHandler.Outcome {
    private enum Tag: UInt8 {
        case value = 0, void = 1, error = 2
    }

    func encoded() -> [UInt8] {
        var writer = WireWriter()
        switch self {
        case .value(let data):
            writer.write(Tag.value.rawValue)
            writer.write(data)
        case .void:
            writer.write(Tag.void.rawValue)
        case .error(let failure):
            writer.write(Tag.error.rawValue)
            writer.write(failure.code)
            writer.write(failure.reason)
            writer.write(failure.errorType ?? "")
            writer.write(failure.encodedError ?? Data())
        }
        return writer.bytes
    }

    init(decoding bytes: [UInt8]) throws {
        var reader = WireReader(bytes)
        switch Tag(rawValue: try reader.readByte()) {
        case .value: self = .value(Data(try reader.readBytes()))
        case .void: self = .void
        case .error:
            let code = try reader.readString()
            let reason = try reader.readString()
            let type = try reader.readString()
            let encoded = try reader.readBytes()
            self = .error(CallFailure(
                code: code, reason: reason, errorType: type.isEmpty ? nil : type, encodedError: encoded.isEmpty ? nil : Data(encoded)
            ))
        case nil: throw ShoalError(code: .invocation, reason: "a remote call's reply has an unknown kind")
        }
    }
}
