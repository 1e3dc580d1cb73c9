import NIOCore
import NIOPosix
import Synchronization

/// A client's connection to one node: every call to that node travels on
/// it, each under its own id, answered in any order.
final class CallConnection: Sendable {
    private let channel: any Channel
    private let outbox: LoopInbox<CallClientHandler.Work>
    private let usable: Usable
    private let nextID = Atomic<UInt64>(0)

    /// Cleared when the node refuses the connection's proofs: it closes
    /// the connection, and the next call opens another rather than race
    /// the close.
    final class Usable: Sendable {
        let flag = Atomic<Bool>(true)
    }

    private init(channel: any Channel, outbox: LoopInbox<CallClientHandler.Work>, usable: Usable) {
        self.channel = channel
        self.outbox = outbox
        self.usable = usable
    }

    /// Connects to `endpoint` and sends the protocol's preface.
    /// - Throws: when the node cannot be reached.
    static func connect(to endpoint: CallConfiguration.Endpoint, maxFrameBytes: Int) -> EventLoopFuture<CallConnection> {
        ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handlers = channel.pipeline.syncOperations
                    try handlers.addHandler(ByteToMessageHandler(CallFrameDecoder(maxFrameBytes: maxFrameBytes, expectsPreface: false)))
                    try handlers.addHandler(CallClientHandler(usable: Usable()))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: CallClientHandler.self)
                channel.writeAndFlush(ByteBuffer(bytes: CallFrame.preface), promise: nil)
                return CallConnection(channel: channel, outbox: handler.outbox, usable: handler.usable)
            }
    }

    var isActive: Bool { channel.isActive && usable.flag.load(ordering: .relaxed) }

    func close() {
        channel.close(promise: nil)
    }

    /// Sends a call and waits for its answer, no longer than what is left
    /// of `timeout` after `spent` (connecting) and the next deadline sweep
    /// after it (``CallClientHandler/sweepInterval``).
    /// - Throws: ``CallTransportError`` when the connection fails or the
    ///   time runs out first; `CancellationError` when the task is cancelled.
    func exchange(_ message: [UInt8], proof: [UInt8]?, timeout: Duration, spent: Duration = .zero) async throws -> CallFrame {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let left = timeout - spent
        let millis = UInt32(clamping: max(Self.milliseconds(of: left), 1))
        let (outbox, ticket) = (self.outbox, CallTicket())
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // Cancelled first: never sent.
                guard ticket.send() else { return continuation.resume(throwing: CancellationError()) }
                outbox.post(.send(.request(id: id, proof: proof, timeoutMillis: millis, message: message), timeout: timeout, left: left, continuation))
            }
        } onCancel: {
            if ticket.cancelAfterSending() { outbox.post(.cancel(id)) }
        }
    }

    private static func milliseconds(of duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
        return overflow ? (seconds < 0 ? 0 : .max) : whole + attoseconds / 1_000_000_000_000_000
    }
}

/// Whether a call was sent or cancelled first: its cancellation may come
/// before its send reaches the loop, or before it is sent at all.
final class CallTicket: Sendable {
    private static let new: UInt8 = 0, sent: UInt8 = 1, cancelled: UInt8 = 2
    private let state = Atomic<UInt8>(CallTicket.new)

    /// True when the call may be sent (not cancelled yet).
    func send() -> Bool {
        state.compareExchange(expected: Self.new, desired: Self.sent, ordering: .acquiringAndReleasing).exchanged
    }

    /// True when the call was sent already, so its cancellation must reach
    /// the loop (after the send: the inbox keeps their order).
    func cancelAfterSending() -> Bool {
        !state.compareExchange(expected: Self.new, desired: Self.cancelled, ordering: .acquiringAndReleasing).exchanged
    }
}

/// A connection that failed a call before its answer came: the call may
/// or may not have run, and may be sent again (a state-changing call with
/// the same id is answered from its first run).
struct CallTransportError: Error, CustomStringConvertible {
    var description: String
}

/// The caller's end of a connection, on its event loop: the calls waiting
/// for answers, by id, each with its deadline.
///
/// Deadlines are checked by one sweep every ``sweepInterval`` while calls
/// wait, not by a task scheduled and cancelled per call: those were 2.9 %
/// of a node's time under remote calls (`perf`, `ShoalBenchmarks calls`).
/// A call times out up to one interval after its deadline.
final class CallClientHandler: ChannelInboundHandler {
    typealias InboundIn = CallFrame
    typealias OutboundOut = ByteBuffer

    static let sweepInterval = TimeAmount.milliseconds(20)

    private struct Waiting {
        let continuation: CheckedContinuation<CallFrame, any Error>
        let deadline: NIODeadline
        let timeout: Duration
    }

    /// What callers hand the loop.
    enum Work: Sendable {
        /// `timeout` is the call's, `left` what connecting left of it.
        case send(CallFrame, timeout: Duration, left: Duration, CheckedContinuation<CallFrame, any Error>)
        case cancel(UInt64)
    }

    let usable: CallConnection.Usable
    private(set) var outbox: LoopInbox<Work>!
    private var waiting: [UInt64: Waiting] = [:]
    private var context: ChannelHandlerContext?
    private var closed = false
    private var sweep: Scheduled<Void>?
    private let out = FramesOut()

    init(usable: CallConnection.Usable) {
        self.usable = usable
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // Weak: the connection's callers hold the inbox after the handler is gone.
        outbox = LoopInbox(loop: context.eventLoop) { [weak self] work in
            guard let self else { return Self.refuse(work) }
            for item in work {
                switch item {
                case .send(let frame, let timeout, let left, let continuation): self.send(frame, timeout: timeout, left: left, continuation)
                case .cancel(let id): self.finish(id, with: .failure(CancellationError()))
                }
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closed = true
        self.context = nil
        sweep?.cancel()
        sweep = nil
        // Normally failed when the channel went inactive; none may be left
        // waiting without the sweep that would time it out.
        for id in Array(waiting.keys) {
            finish(id, with: .failure(CallTransportError(description: "the connection's handler was removed before the answer")))
        }
    }

    /// Work that reaches a connection whose handler is gone.
    private static func refuse(_ work: [Work]) {
        for case .send(_, _, _, let continuation) in work {
            continuation.resume(throwing: CallTransportError(description: "the connection is closed"))
        }
    }

    func send(_ frame: CallFrame, timeout: Duration, left: Duration, _ continuation: CheckedContinuation<CallFrame, any Error>) {
        guard let context, !closed else {
            continuation.resume(throwing: CallTransportError(description: "the connection is closed"))
            return
        }
        waiting[frame.id] = Waiting(continuation: continuation, deadline: .now() + TimeAmount(left), timeout: timeout)
        sweepLater(on: context.eventLoop)
        out.write(frame, context)
    }

    func finish(_ id: UInt64, with result: Result<CallFrame, any Error>) {
        waiting.removeValue(forKey: id)?.continuation.resume(with: result)
    }

    /// Fails the calls past their deadline, then looks again later while
    /// any wait.
    private func sweepLater(on loop: any EventLoop) {
        guard sweep == nil else { return }
        sweep = loop.assumeIsolated().scheduleTask(in: Self.sweepInterval) {
            self.sweep = nil
            let now = NIODeadline.now()
            for (id, call) in self.waiting.filter({ $0.value.deadline <= now }) {
                self.finish(id, with: .failure(CallTransportError(description: "no answer within \(call.timeout)")))
            }
            if !self.waiting.isEmpty { self.sweepLater(on: loop) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame {
        case .refusal(_, .unauthenticated, _):
            usable.flag.store(false, ordering: .relaxed)
            finish(frame.id, with: .success(frame))
        case .reply, .refusal, .oversized:
            finish(frame.id, with: .success(frame))
        case .request:
            context.close(promise: nil)  // a node never calls its caller
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        usable.flag.store(false, ordering: .relaxed)
        for id in Array(waiting.keys) {
            finish(id, with: .failure(CallTransportError(description: "the connection closed before the answer")))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
