import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import Synchronization

/// One gRPC client per node reached, each multiplexing every call to that
/// node over its connection. ``run()`` runs the clients' connections;
/// calls made before a client connects wait for it (within their timeout).
final class CallClients: Sendable {
    typealias Client = GRPCClient<HTTP2ClientTransport.Posix>

    private struct State {
        var clients: [String: Client] = [:]
        var closed = false
    }

    private let state = Mutex(State())
    private let running = Atomic<Bool>(false)
    private let started: (stream: AsyncStream<Client>, continuation: AsyncStream<Client>.Continuation)
    let secret: CallSecret
    let maxMessageBytes: Int

    init(secret: CallSecret, maxMessageBytes: Int) {
        self.secret = secret
        self.maxMessageBytes = maxMessageBytes
        self.started = AsyncStream.makeStream()
    }

    /// Runs every client's connections until ``shutdown()``; once.
    func run() async {
        // The stream of new clients has one reader.
        guard !running.exchange(true, ordering: .relaxed) else { return }
        await withDiscardingTaskGroup { group in
            for await client in started.stream {
                group.addTask { try? await client.runConnections() }
            }
        }
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Closes the clients of addresses no live node announces any more (a
    /// node gone, or restarted on another port): each would go on trying
    /// to connect.
    func prune(keeping live: Set<String>) {
        let gone = state.withLock { state in
            let stale = state.clients.filter { !live.contains($0.key) }
            for address in stale.keys { state.clients[address] = nil }
            return Array(stale.values)
        }
        for client in gone { client.beginGracefulShutdown() }
    }

    /// Closes every client; calls in flight finish.
    func shutdown() {
        let clients = state.withLock { state in
            state.closed = true
            return Array(state.clients.values)
        }
        for client in clients { client.beginGracefulShutdown() }
        started.continuation.finish()
    }

    /// Sends `call` to the node at `address` and returns its outcome.
    /// - Throws: ``ShoalError`` `unauthenticated` when either side does not
    ///   prove the secret; `RPCError` when the node cannot be reached.
    func send(_ call: EntityCall, to address: String, timeout: Duration) async throws -> ShoalResultHandler.Outcome {
        let message = call.encoded()
        guard message.count <= maxMessageBytes else {
            throw ShoalError(
                code: .invocation,
                reason: "\(call.id) \(call.target): the call has \(message.count) bytes, more than the \(maxMessageBytes) allowed"
            )
        }
        let client = try client(for: address)
        let proof = CallProof(secret: secret, request: message)
        var metadata = Metadata()
        metadata.addString(proof.header, forKey: CallProof.requestKey)
        var options = CallOptions.defaults
        options.timeout = timeout
        options.maxResponseMessageBytes = maxMessageBytes
        options.maxRequestMessageBytes = maxMessageBytes
        // Fail fast when the node is down: the caller looks for its
        // partition's new owner and tries again.
        options.waitForReady = false
        let secret = self.secret
        do {
            return try await client.unary(
                request: ClientRequest(message: message, metadata: metadata), descriptor: EntityCallMethod.descriptor,
                serializer: RawBytesCoder(), deserializer: RawBytesCoder(), options: options
            ) { response in
                let reply = try response.message
                let code = response.metadata[stringValues: CallProof.replyKey].first { _ in true }.flatMap { [UInt8](hex: $0) }
                guard let code, secret.isValid(code, for: "reply|\(proof.nonce)|", reply) else {
                    throw ShoalError(code: .unauthenticated, reason: "the node at \(address) did not prove the shared call secret in its reply")
                }
                return try ShoalResultHandler.Outcome(decoding: reply)
            }
        } catch let error as RPCError where error.code == .unauthenticated {
            throw ShoalError(code: .unauthenticated, reason: "the node at \(address) refused the call: \(error.message)")
        }
    }

    private func client(for address: String) throws -> Client {
        try state.withLock { state in
            guard !state.closed else { throw ShoalError(code: .shutDown, reason: "calls are shut down") }
            if let client = state.clients[address] { return client }
            let endpoint = try CallConfiguration.Endpoint(parsing: address, setting: "a node's announced address")
            var config = HTTP2ClientTransport.Posix.Config.defaults
            config.backoff.initial = .milliseconds(50)
            config.backoff.max = .seconds(1)
            let transport = try HTTP2ClientTransport.Posix(
                target: .dns(host: endpoint.host, port: endpoint.port), transportSecurity: .plaintext, config: config
            )
            let client = Client(transport: transport)
            state.clients[address] = client
            started.continuation.yield(client)
            return client
        }
    }
}
