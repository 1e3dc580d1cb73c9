import Logging
import Synchronization

/// Answers calls from other nodes and clients, whatever carries them:
/// checks the caller's proof of the shared secret, decodes the call, runs
/// it on a local entity, and proves the reply. A refused or malformed call
/// fails that call only.
struct EntityCallService: Sendable {
    /// What becomes of one call.
    enum Answer: Sendable, Equatable {
        case reply(proof: [UInt8], message: [UInt8])
        case refused(CallRefusal, String)
    }

    let secret: CallSecret
    let metrics: CallMetrics
    let logger: Logger
    /// Runs a call on this node within the time given; fails with
    /// `notOwned` when the key is not here.
    let deliver: @Sendable (EntityCall, Duration) async -> ShoalResultHandler.Outcome
    let refusals = RefusalCount()

    func answer(_ message: [UInt8], proof header: String?, within timeout: Duration) async -> Answer {
        if let problem = CallProof.problem(with: header, request: message, secret: secret) {
            metrics.refused(.unauthenticated)
            logSparsely("Refused a call", problem)
            return .refused(.unauthenticated, problem)
        }
        let call: EntityCall
        do {
            call = try EntityCall(decoding: message)
        } catch {
            metrics.refused(.malformed)
            return .refused(.malformed, "\(error)")
        }
        let started = ContinuousClock.now
        let outcome = await deliver(call, timeout)
        metrics.served(outcome, since: started)
        let reply = outcome.encoded()
        // Checked above: the header parses.
        let proof = header.flatMap(CallProof.init(header:))!.replyCode(secret, reply: reply)
        return .reply(proof: proof, message: reply)
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
