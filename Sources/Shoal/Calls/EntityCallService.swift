import Logging
import Synchronization

/// Answers calls from other nodes and clients, whatever carries them:
/// checks the caller's proof of the shared secret, decodes the call, runs
/// it on a local entity, and proves the reply. A refused or malformed call
/// fails that call only.
struct EntityCallService: Sendable {
    /// What a call that ran answers.
    enum Answer: Sendable, Equatable {
        case reply(proof: [UInt8], message: [UInt8])
    }

    let secret: CallSecret
    let metrics: CallMetrics
    let logger: Logger
    /// Runs a call on this node within the time given; fails with
    /// `notOwned` when the key is not here.
    let deliver: @Sendable (EntityCall, Duration) async -> ShoalResultHandler.Outcome
    let refusals = RefusalCount()
    /// False only to stand in for a node of an earlier Shoal, which refuses
    /// a call carrying a trace context as malformed (tests of the caller's
    /// fallback).
    var readsTraceContext = true

    /// The call `message` holds when `header` proves it; else the refusal.
    /// Quick and synchronous: the transport checks before it starts a task.
    func check(_ message: [UInt8], proof bytes: [UInt8]?) -> Result<(EntityCall, CallProof), Refused> {
        if let problem = CallProof.problem(with: bytes, request: message, secret: secret) {
            metrics.refused(.unauthenticated)
            logSparsely("Refused a call", problem)
            return .failure(Refused(reason: .unauthenticated, detail: problem))
        }
        // Checked above: the bytes parse.
        let proof = bytes.flatMap(CallProof.init(bytes:))!
        do {
            let call = try EntityCall(decoding: message)
            if !readsTraceContext, call.traceContext != nil {
                throw ShoalError(code: .invocation, reason: "a remote call has bytes after its last field")
            }
            return .success((call, proof))
        } catch {
            metrics.refused(.malformed)
            return .failure(Refused(reason: .malformed, detail: "\(error)"))
        }
    }

    /// Runs a checked call and proves its reply.
    func run(_ call: EntityCall, proof: CallProof, within timeout: Duration) async -> Answer {
        let started = ContinuousClock.now
        let outcome = await deliver(call, timeout)
        metrics.served(outcome, since: started)
        let reply = outcome.encoded()
        return .reply(proof: proof.replyCode(secret, reply: reply), message: reply)
    }

    /// A call refused before it ran.
    struct Refused: Error, Equatable {
        var reason: CallRefusal
        var detail: String
    }

    /// A peer without the secret must not flood the log: the 1st, 2nd,
    /// 4th, 8th... refusal is logged; the metric counts them all.
    func logSparsely(_ message: Logger.Message, _ problem: String) {
        let count = refusals.increment()
        if count & (count - 1) == 0 {
            logger.warning(message, metadata: ["reason": "\(problem)", "refused": "\(count)"])
        }
    }
}

/// Refused calls so far, for logging some of them.
final class RefusalCount: Sendable {
    private let count = Atomic<Int>(0)

    func increment() -> Int {
        count.add(1, ordering: .relaxed).newValue
    }
}
