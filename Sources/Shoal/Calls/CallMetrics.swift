import Metrics

/// Metrics of entity calls: served for other processes (`in`) and sent to
/// other nodes (`out`), their latency, their outcomes and refusals.
struct CallMetrics: Sendable {
    enum Refusal: String {
        /// No proof of the shared secret, or a wrong one.
        case unauthenticated
        /// Bytes that do not decode as a call, or a connection that does
        /// not speak the call protocol.
        case malformed
        /// A call larger than the node accepts.
        case tooLarge
    }

    /// Calls sent to the node that owns the key (not run locally).
    let forwarded = Counter(label: "shoal_calls_forwarded_total")
    /// Attempts repeated because the key's partition was moving or its owner unknown.
    let retries = Counter(label: "shoal_call_retries_total")
    let servedLatency = Metrics.Timer(label: "shoal_call_duration_seconds", dimensions: [("direction", "in")])
    let sentLatency = Metrics.Timer(label: "shoal_call_duration_seconds", dimensions: [("direction", "out")])

    func refused(_ refusal: Refusal) {
        Counter(label: "shoal_calls_refused_total", dimensions: [("reason", refusal.rawValue)]).increment()
    }

    /// A call this node ran for another process.
    func served(_ outcome: ShoalResultHandler.Outcome, since started: ContinuousClock.Instant) {
        servedLatency.record(ContinuousClock.now - started)
        count("in", outcome)
    }

    /// A call this process sent to another node, by its final outcome.
    func sent(_ outcome: ShoalResultHandler.Outcome?, since started: ContinuousClock.Instant) {
        sentLatency.record(ContinuousClock.now - started)
        count("out", outcome)
    }

    // Made once: looking a counter up in the backend's registry per call
    // would cost a lock and a hash on every call.
    private let servedOK = Counter(label: "shoal_calls_total", dimensions: [("direction", "in"), ("outcome", "ok")])
    private let sentOK = Counter(label: "shoal_calls_total", dimensions: [("direction", "out"), ("outcome", "ok")])

    private func count(_ direction: String, _ outcome: ShoalResultHandler.Outcome?) {
        let result: String
        switch outcome {
        case .value?, .void?:
            (direction == "in" ? servedOK : sentOK).increment()
            return
        case .error(let failure)?: result = failure.code
        case nil: result = "transport"
        }
        Counter(label: "shoal_calls_total", dimensions: [("direction", direction), ("outcome", result)]).increment()
    }
}
