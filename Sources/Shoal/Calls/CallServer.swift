import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Serves ``EntityCallService`` on a TCP port with Shoal's call protocol
/// (``CallFrame``) on SwiftNIO: each connection carries many calls at once.
///
/// SwiftNIO directly rather than gRPC: side by side in runs of
/// `ShoalBenchmarks calls`, with 64 in flight, a bare grpc-swift-2 unary
/// echo answered 5,761 to 12,095 calls/s and Shoal's remote calls over this
/// protocol 35,195 to 58,490 (over gRPC they had made 3,559/s): see
/// docs/benchmarks.md, "Calls on SwiftNIO directly".
final class CallServer: Sendable {
    private enum Phase {
        case idle, binding
        case serving(any Channel)
        case stopped
    }

    private let phase = Mutex(Phase.idle)
    /// The open connections, closed when the server stops.
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let listen: CallConfiguration.Endpoint
    private let maxFrameBytes: Int
    private let service: EntityCallService

    init(listen: CallConfiguration.Endpoint, maxMessageBytes: Int, service: EntityCallService) {
        self.listen = listen
        self.maxFrameBytes = maxMessageBytes + CallFrame.overheadBytes
        self.service = service
    }

    /// Listens, calls `listening` with the bound port, and serves until
    /// ``stop()``; returns at once when stopped before it began.
    /// - Throws: when the address cannot be bound.
    func run(listening: @Sendable (Int) -> Void) async throws {
        guard phase.withLock({ phase in
            guard case .idle = phase else { return false }
            phase = .binding
            return true
        }) else { return }
        let channel = try await bootstrap().bind(host: listen.host, port: listen.port).get()
        let serving = phase.withLock { phase in
            guard case .binding = phase else { return false }
            phase = .serving(channel)
            return true
        }
        guard serving else {
            try? await channel.close()
            return
        }
        listening(channel.localAddress?.port ?? listen.port)
        try? await channel.closeFuture.get()
    }

    /// Stops listening and closes every connection: calls in flight there
    /// lose their answers, and their callers try again.
    func stop() {
        let listening = phase.withLock { phase -> (any Channel)? in
            defer { phase = .stopped }
            if case .serving(let channel) = phase { return channel }
            return nil
        }
        listening?.close(promise: nil)
        for connection in connections.withLock({ Array($0.values) }) { connection.close(promise: nil) }
    }

    private func bootstrap() -> ServerBootstrap {
        let (service, maxFrameBytes) = (service, maxFrameBytes)
        return ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [weak self] channel in
                self?.track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    let handlers = channel.pipeline.syncOperations
                    try handlers.addHandler(ByteToMessageHandler(CallFrameDecoder(maxFrameBytes: maxFrameBytes, expectsPreface: true)))
                    try handlers.addHandler(CallServerHandler(service: service, maxFrameBytes: maxFrameBytes))
                }
            }
    }

    /// Connections open at once; more are closed as they come.
    static let maxConnections = 1_024

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let admitted = connections.withLock { connections in
            guard connections.count < Self.maxConnections else { return false }
            connections[id] = channel
            return true
        }
        guard admitted else {
            service.logSparsely("Refused a call connection", "\(Self.maxConnections) connections are open")
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.connections.withLock { $0.removeValue(forKey: id) }
        }
        // A connection accepted while stopping is closed at once.
        if phase.withLock({ if case .stopped = $0 { true } else { false } }) { channel.close(promise: nil) }
    }
}

/// One connection's calls on the node: checks each request's proof on the
/// loop, runs the call in a task, writes its answer when done (flushing
/// once per event-loop turn), and stops reading while too many calls of
/// the connection run or its answers wait for the peer to read them. A
/// connection that has not proven the secret within
/// ``authenticationDeadline`` is closed.
final class CallServerHandler: ChannelDuplexHandler {
    typealias InboundIn = CallFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Calls of one connection run at once before its reading pauses.
    static let maxRunning = 1_024
    /// How long a new connection may go without a proven call: a peer
    /// that only connects, or trickles bytes, does not keep it.
    static let authenticationDeadline: TimeAmount = .seconds(10)

    private let service: EntityCallService
    private let maxFrameBytes: Int
    private var running = 0
    private var readHeld = false
    private var authenticated = false
    /// A call of this connection failed its proof: the connection is
    /// closing, and what else it sent is dropped unchecked.
    private var refusedPeer = false
    private var deadline: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private let out = FramesOut()
    /// Answers finished by the calls' tasks, for the loop to write.
    private var answers: LoopInbox<(UInt64, EntityCallService.Answer)>?

    init(service: EntityCallService, maxFrameBytes: Int) {
        self.service = service
        self.maxFrameBytes = maxFrameBytes
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // Weak: the inbox outlives the connection in tasks still running.
        answers = LoopInbox(loop: context.eventLoop) { [weak self] answers in
            guard let self, let context = self.context else { return }
            for (id, answer) in answers { self.finish(id, answer, context: context) }
        }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: Self.authenticationDeadline) { [weak self] in
            guard let self, !self.authenticated, let context = self.context else { return }
            self.fail(context, CallFrameError("no call with a valid proof within \(Self.authenticationDeadline)"))
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        self.context = nil
        answers = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refusedPeer else { return }
        switch unwrapInboundIn(data) {
        case .request(let id, let proof, let timeout, let message):
            switch service.check(message, proof: proof) {
            case .success(let (call, proof)):
                authenticated = true
                running += 1
                let (service, answers) = (service, answers!)
                Task {
                    answers.post((id, await service.run(call, proof: proof, within: .milliseconds(Int64(timeout)))))
                }
            case .failure(let refused):
                out.write(.refusal(id: id, reason: refused.reason, detail: refused.detail), context)
                // A peer that cannot prove the secret keeps no connection: closed
                // once the refusal (written before this empty write) is out.
                if refused.reason == .unauthenticated {
                    refusedPeer = true
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                }
            }
        case .oversized(let id, let bytes):
            service.metrics.refused(.tooLarge)
            out.write(.refusal(id: id, reason: .tooLarge, detail: "the call has \(bytes) bytes, more than the \(maxFrameBytes) this node accepts"), context)
        case .reply, .refusal:
            fail(context, CallFrameError("a caller sent an answer frame"))
        }
    }

    private func finish(_ id: UInt64, _ answer: EntityCallService.Answer, context: ChannelHandlerContext) {
        running -= 1
        switch answer {
        case .reply(let proof, let message):
            out.write(.reply(id: id, proof: proof, message: message), context)
        }
        resumeReading(context)
    }

    func read(context: ChannelHandlerContext) {
        if running >= Self.maxRunning || !context.channel.isWritable {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReading(context)
        context.fireChannelWritabilityChanged()
    }

    private func resumeReading(_ context: ChannelHandlerContext) {
        guard readHeld, running < Self.maxRunning, context.channel.isWritable else { return }
        readHeld = false
        context.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, error)
    }

    private func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        service.metrics.refused(.malformed)
        service.logSparsely("Closed a call connection", "\(error)")
        context.close(promise: nil)
    }
}
