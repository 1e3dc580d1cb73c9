import GRPCCore
import Logging
import Synchronization

/// A message as its bytes: calls carry their own encoding (``WireWriter``).
struct RawBytesCoder: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
        Bytes(message)
    }

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

/// The one gRPC method every call travels by.
enum EntityCallMethod {
    static let descriptor = MethodDescriptor(fullyQualifiedService: "shoal.v1.EntityCalls", method: "Call", type: .unary)
}

/// Serves calls from other nodes and clients: checks the caller's proof of
/// the shared secret, decodes the call, runs it on a local entity, and
/// signs the reply. A refused or malformed call fails that call only.
struct EntityCallService: RegistrableRPCService {
    let secret: CallSecret
    let metrics: CallMetrics
    let logger: Logger
    /// Runs a call on this node; fails with `notOwned` when the key is not here.
    let deliver: @Sendable (EntityCall) async -> ShoalResultHandler.Outcome
    let refusals = RefusalCount()

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: EntityCallMethod.descriptor, deserializer: RawBytesCoder(), serializer: RawBytesCoder()
        ) { request, _ in
            let message = try await Self.single(request.messages)
            let header = request.metadata[stringValues: CallProof.requestKey].first { _ in true }
            return StreamingServerResponse(single: try await handle(message, proof: header))
        }
    }

    private func handle(_ message: [UInt8], proof header: String?) async throws -> ServerResponse<[UInt8]> {
        if let problem = CallProof.problem(with: header, request: message, secret: secret) {
            metrics.refused(.unauthenticated)
            // A peer without the secret must not flood the log: the 1st,
            // 2nd, 4th, 8th... refusal is logged; the metric counts them all.
            let count = refusals.increment()
            if count & (count - 1) == 0 {
                logger.warning("Refused a call", metadata: ["reason": "\(problem)", "refused": "\(count)"])
            }
            throw RPCError(code: .unauthenticated, message: problem)
        }
        let call: EntityCall
        do {
            call = try EntityCall(decoding: message)
        } catch {
            metrics.refused(.malformed)
            throw RPCError(code: .invalidArgument, message: "\(error)")
        }
        let started = ContinuousClock.now
        let outcome = await deliver(call)
        metrics.served(outcome, since: started)
        let reply = outcome.encoded()
        var metadata = Metadata()
        if let proof = header.flatMap(CallProof.init(header:)) {
            metadata.addString(proof.replyCode(secret, reply: reply).hex, forKey: CallProof.replyKey)
        }
        return ServerResponse(message: reply, metadata: metadata)
    }

    /// A unary call's one message.
    private static func single(_ messages: RPCAsyncSequence<[UInt8], any Error>) async throws -> [UInt8] {
        var found: [UInt8]?
        for try await message in messages {
            guard found == nil else { throw RPCError(code: .invalidArgument, message: "a call has one message") }
            found = message
        }
        guard let found else { throw RPCError(code: .invalidArgument, message: "a call has no message") }
        return found
    }
}

/// Refused calls so far, for logging some of them.
final class RefusalCount: Sendable {
    private let count = Atomic<Int>(0)

    func increment() -> Int {
        count.add(1, ordering: .relaxed).newValue
    }
}
