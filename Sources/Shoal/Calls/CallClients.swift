import NIOCore
import Synchronization

/// One connection per node reached, each carrying every call to that node.
/// A connection is opened by the first call to its node and opened again
/// by the next call after it breaks. ``run()`` lasts until ``shutdown()``,
/// which closes them all.
final class CallClients: Sendable {
    private struct State {
        var connections: [String: EventLoopFuture<CallConnection>] = [:]
        /// The connections made: awaiting a future settled already would
        /// still hop to its event loop, once per call.
        var open: [String: CallConnection] = [:]
        var closed = false
    }

    private let state = Mutex(State())
    private let stopped: (stream: AsyncStream<Never>, continuation: AsyncStream<Never>.Continuation)
    let secret: CallSecret
    let maxMessageBytes: Int

    init(secret: CallSecret, maxMessageBytes: Int) {
        self.secret = secret
        self.maxMessageBytes = maxMessageBytes
        self.stopped = AsyncStream.makeStream()
    }

    /// Returns once the clients are shut down.
    func run() async {
        for await _ in stopped.stream {}
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Closes the connections of addresses no live node announces any
    /// more (a node gone, or restarted on another port).
    func prune(keeping live: Set<String>) {
        let gone = state.withLock { state in
            let stale = state.connections.filter { !live.contains($0.key) }
            for address in stale.keys {
                state.connections[address] = nil
                state.open[address] = nil
            }
            return Array(stale.values)
        }
        for connection in gone { connection.whenSuccess { $0.close() } }
    }

    /// Closes every connection: calls waiting on them fail.
    func shutdown() {
        let connections = state.withLock { state in
            state.closed = true
            defer {
                state.connections = [:]
                state.open = [:]
            }
            return Array(state.connections.values)
        }
        for connection in connections { connection.whenSuccess { $0.close() } }
        stopped.continuation.finish()
    }

    /// Sends `call` to the node at `address` and returns its outcome.
    /// - Throws: ``ShoalError`` `unauthenticated` when either side does not
    ///   prove the secret, `invocation` when the node refuses the call;
    ///   ``CallTransportError`` when the node cannot be reached in time.
    func send(_ call: EntityCall, to address: String, timeout: Duration) async throws -> ShoalResultHandler.Outcome {
        let started = ContinuousClock.now
        do {
            return try await sendOnce(call, to: address, timeout: timeout)
        } catch let refused as MalformedRefusal {
            // A node of an earlier Shoal reads no trace context: it refused
            // the call without running it, so it goes again without one.
            guard call.traceContext != nil else { throw refused.error }
            var untraced = call
            untraced.traceContext = nil
            return try await sendOnce(untraced, to: address, timeout: timeout - (ContinuousClock.now - started))
        }
    }

    /// A node's refusal of a call as malformed, with the error it means.
    private struct MalformedRefusal: Error {
        var error: ShoalError
    }

    private func sendOnce(_ call: EntityCall, to address: String, timeout: Duration) async throws -> ShoalResultHandler.Outcome {
        let message = call.encoded()
        guard message.count <= maxMessageBytes else {
            throw ShoalError(
                code: .invocation,
                reason: "\(call.id) \(call.target): the call has \(message.count) bytes, more than the \(maxMessageBytes) allowed"
            )
        }
        let proof = CallProof(secret: secret, request: message)
        switch try await exchange(message, proof: proof.bytes, to: address, timeout: timeout) {
        case .reply(_, let code, let reply):
            guard proof.isValidReply(code, reply, secret: secret) else {
                throw ShoalError(code: .unauthenticated, reason: "the node at \(address) did not prove the shared call secret in its reply")
            }
            return try ShoalResultHandler.Outcome(decoding: reply)
        case .refusal(_, let reason, let detail):
            let error = ShoalError(code: reason == .unauthenticated ? .unauthenticated : .invocation, reason: "the node at \(address) refused the call: \(detail)")
            throw reason == .malformed ? MalformedRefusal(error: error) : error
        case .oversized(_, let bytes):
            throw ShoalError(code: .invocation, reason: "the node at \(address) answered with \(bytes) bytes, more than the \(maxMessageBytes) allowed")
        case .request:
            throw CallTransportError(description: "the node at \(address) sent a request")
        }
    }

    /// Sends one request frame as given (a test sends ones without a proof)
    /// and returns the frame that answers it.
    /// The call's `timeout` covers connecting to the node, when it must.
    func exchange(_ message: [UInt8], proof: [UInt8]?, to address: String, timeout: Duration) async throws -> CallFrame {
        let start = ContinuousClock.now
        let connection = try await connection(to: address, within: timeout)
        let spent = ContinuousClock.now - start
        guard spent < timeout else { throw CallTransportError(description: "no answer within \(timeout): connecting took it all") }
        return try await connection.exchange(message, proof: proof, timeout: timeout, spent: spent)
    }

    private func connection(to address: String, within timeout: Duration) async throws -> CallConnection {
        let start = ContinuousClock.now
        if let open = state.withLock({ $0.open[address] }), open.isActive { return open }
        // A connection found closed is opened again once, at once.
        for _ in 0..<2 {
            let opening = try opening(address)
            let connection: CallConnection
            do {
                // A connection found closed and opened again waits only what is left.
                connection = try await Self.awaiting(opening, within: timeout - (ContinuousClock.now - start))
            } catch is ConnectWaitExpired {
                // The connect goes on (no longer than its own timeout) for the next calls.
                throw CallTransportError(description: "no connection to \(address) within \(timeout)")
            } catch {
                // Not reachable now: the next call connects again.
                forget(opening, of: address)
                throw CallTransportError(description: "cannot connect to \(address): \(error)")
            }
            if connection.isActive {
                state.withLock { state in
                    if state.connections[address] === opening { state.open[address] = connection }
                }
                return connection
            }
            forget(opening, of: address)
        }
        throw CallTransportError(description: "the connection to \(address) closed")
    }

    /// The connection `opening` gives, waited for no longer than `timeout`.
    private static func awaiting(_ opening: EventLoopFuture<CallConnection>, within timeout: Duration) async throws -> CallConnection {
        let loop = opening.eventLoop
        let waited = loop.makePromise(of: CallConnection.self)
        // Both run on the opening's loop, and the later completion is ignored.
        let expiry = loop.scheduleTask(in: TimeAmount(timeout)) { waited.fail(ConnectWaitExpired()) }
        opening.whenComplete { result in
            expiry.cancel()
            waited.completeWith(result)
        }
        return try await waited.futureResult.get()
    }

    private func opening(_ address: String) throws -> EventLoopFuture<CallConnection> {
        let (opening, started) = try state.withLock { state throws -> (EventLoopFuture<CallConnection>, Bool) in
            guard !state.closed else { throw ShoalError(code: .shutDown, reason: "calls are shut down") }
            if let open = state.connections[address] { return (open, false) }
            let endpoint = try CallConfiguration.Endpoint(parsing: address, setting: "a node's announced address")
            let opening = CallConnection.connect(to: endpoint, maxFrameBytes: maxMessageBytes + CallFrame.overheadBytes)
            state.connections[address] = opening
            return (opening, true)
        }
        // A connect that fails after its callers stopped waiting is not
        // handed to the next call: that one connects again.
        if started { opening.whenFailure { [weak self] _ in self?.forget(opening, of: address) } }
        return opening
    }

    private func forget(_ opening: EventLoopFuture<CallConnection>, of address: String) {
        state.withLock { state in
            guard state.connections[address] === opening else { return }
            state.connections[address] = nil
            state.open[address] = nil
        }
    }
}

/// A call stopped waiting for its connection: its timeout ran out first.
private struct ConnectWaitExpired: Error {}
