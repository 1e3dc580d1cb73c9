import Distributed
import Foundation

/// A distributed call, encoded as it would travel to another node: generic
/// substitutions by mangled name, arguments as JSON.
public struct ShoalInvocation: Sendable, Codable {
    var genericSubstitutions: [String] = []
    var arguments: [Data] = []
    var throwsErrors = false
}

/// Encodes a distributed call's arguments.
public struct ShoalInvocationEncoder: DistributedTargetInvocationEncoder {
    public typealias SerializationRequirement = any Codable
    var invocation = ShoalInvocation()

    public mutating func recordGenericSubstitution<T>(_ type: T.Type) throws {
        guard let name = _mangledTypeName(type) else {
            throw ShoalError(code: .invocation, reason: "cannot name generic type \(type) for a distributed call")
        }
        invocation.genericSubstitutions.append(name)
    }

    public mutating func recordArgument<Value: Codable>(_ argument: RemoteCallArgument<Value>) throws {
        invocation.arguments.append(try JSONEncoder().encode(argument.value))
    }

    public mutating func recordErrorType<E: Error>(_ type: E.Type) throws {
        invocation.throwsErrors = true
    }

    public mutating func recordReturnType<R: Codable>(_ type: R.Type) throws {}

    public mutating func doneRecording() throws {}
}

/// Decodes a distributed call's arguments on the entity's side.
public struct ShoalInvocationDecoder: DistributedTargetInvocationDecoder {
    public typealias SerializationRequirement = any Codable
    let invocation: ShoalInvocation
    var nextArgument = 0

    init(_ invocation: ShoalInvocation) {
        self.invocation = invocation
    }

    public mutating func decodeGenericSubstitutions() throws -> [any Any.Type] {
        try invocation.genericSubstitutions.map { name in
            guard let type = _typeByName(name) else {
                throw ShoalError(code: .invocation, reason: "unknown generic type \(name) in a distributed call")
            }
            return type
        }
    }

    public mutating func decodeNextArgument<Argument: Codable>() throws -> Argument {
        guard nextArgument < invocation.arguments.count else {
            throw ShoalError(code: .invocation, reason: "a distributed call has fewer arguments than its target")
        }
        defer { nextArgument += 1 }
        return try JSONDecoder().decode(Argument.self, from: invocation.arguments[nextArgument])
    }

    public mutating func decodeErrorType() throws -> (any Any.Type)? { nil }

    public mutating func decodeReturnType() throws -> (any Any.Type)? { nil }
}

/// Captures the outcome of a distributed call executed on an entity.
public struct ShoalResultHandler: DistributedTargetInvocationResultHandler {
    public typealias SerializationRequirement = any Codable

    enum Outcome: Sendable {
        case value(Data)
        case void
        case error(String)
    }

    let deliver: @Sendable (Outcome) -> Void

    public func onReturn<Success: Codable>(value: Success) async throws {
        deliver(.value(try JSONEncoder().encode(value)))
    }

    public func onReturnVoid() async throws {
        deliver(.void)
    }

    public func onThrow<Err: Error>(error: Err) async throws {
        deliver(.error(String(describing: error)))
    }
}
