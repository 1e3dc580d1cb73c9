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
        // Shoal's JSON encoder and decoder (docs/benchmarks.md, "JSON"):
        // arguments and results cross on every call, local or remote.
        invocation.arguments.append(Data(try CanonicalJSON.encode(argument.value)))
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
        return try CanonicalJSON.decode(Argument.self, from: invocation.arguments[nextArgument])
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
        case error(CallFailure)
    }

    let deliver: @Sendable (Outcome) -> Void

    public func onReturn<Success: Codable>(value: Success) async throws {
        deliver(.value(Data(try CanonicalJSON.encode(value))))
    }

    public func onReturnVoid() async throws {
        deliver(.void)
    }

    public func onThrow<Err: Error>(error: Err) async throws {
        var failure = CallFailure(thrown: error)
        // The runtime's own codes steer retries: one a handler threw (from a
        // call of its own, say) is the handler's failure, not a moving partition.
        if error is ShoalError { failure.code = ShoalError.Code.handler.description }
        deliver(.error(failure))
    }
}

/// A call's thrown error as it travels back to the caller: a `Codable`
/// error by its type and encoding, so the caller throws it as itself;
/// any other by its description.
struct CallFailure: Sendable, Hashable {
    /// A ``ShoalError/Code`` name.
    var code: String
    var reason: String
    /// The mangled name of a `Codable` error's type.
    var errorType: String?
    var encodedError: Data?

    init(code: String, reason: String, errorType: String? = nil, encodedError: Data? = nil) {
        self.code = code
        self.reason = reason
        self.errorType = errorType
        self.encodedError = encodedError
    }

    init(thrown error: some Error) {
        if let shoal = error as? ShoalError {
            self.init(code: shoal.code.description, reason: shoal.reason)
            return
        }
        self.init(code: ShoalError.Code.handler.description, reason: String(describing: error))
        // `as Any`: a distributed func's error arrives as `any Error`, whose
        // own type name is the existential's, not the thrown type's.
        if let encodable = error as? any Encodable, let name = _mangledTypeName(type(of: error as Any)),
           let encoded = try? JSONEncoder().encode(encodable) {
            errorType = name
            encodedError = encoded
        }
    }

    /// What the caller throws: the original error when its type is known
    /// here and decodes, else a ``ShoalError`` with the code and reason.
    func error(calling target: String, on id: EntityID) -> any Error {
        if let errorType, let encodedError, let type = _typeByName(errorType) as? any (Error & Decodable).Type,
           let decoded = try? Self.decode(type, from: encodedError) {
            return decoded
        }
        let code = ShoalError.Code(name: code)
        return ShoalError(code: code, reason: code == .handler ? "\(id) \(target): \(reason)" : reason)
    }

    private static func decode<E: Error & Decodable>(_ type: E.Type, from data: Data) throws -> any Error {
        try JSONDecoder().decode(type, from: data)
    }
}
