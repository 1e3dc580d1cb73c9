import Distributed
import Foundation
import Synchronization

/// Delivers a distributed call to the entity it names, in that entity's
/// per-key order. The node implements it; a later release routes calls for
/// keys owned elsewhere to their node.
protocol EntityCallRouter: Sendable {
    func deliver(_ call: EntityCall) async throws -> ShoalResultHandler.Outcome
}

/// A distributed call waiting in an entity's mailbox.
struct EntityCall: Sendable, Codable {
    var id: EntityID
    /// The target's identifier (`RemoteCallTarget` itself is not `Sendable`).
    var target: String
    var invocation: ShoalInvocation
    /// The caller's id for the call: a state-changing call retried with the
    /// same id is answered from its first execution.
    var callID: String?
    /// The trace context of the caller's span, as the tracer's propagator
    /// writes it (`traceparent` with W3C Trace Context); nil when the
    /// caller does not trace.
    var traceContext: [String: String]?

    init(id: EntityID, target: String, invocation: ShoalInvocation, callID: String? = nil) {
        self.id = id
        self.target = target
        self.invocation = invocation
        self.callID = callID
    }
}

/// Shoal's `DistributedActorSystem`: an actor's id is its entity type and key.
///
/// References obtained with `resolve(id:using:)` are proxies even on the
/// owning node: every distributed call travels through the entity's mailbox,
/// so a query sees exactly the events that came before it, in order.
public final class ShoalActorSystem: DistributedActorSystem, Sendable {
    public typealias ActorID = EntityID
    public typealias SerializationRequirement = any Codable
    public typealias InvocationEncoder = ShoalInvocationEncoder
    public typealias InvocationDecoder = ShoalInvocationDecoder
    public typealias ResultHandler = ShoalResultHandler

    /// The id the runtime is activating, read by `assignID` during `init`.
    @TaskLocal static var activating: EntityID?

    private let router = Mutex<(any EntityCallRouter)?>(nil)
    private let anonymous = Atomic<Int>(0)

    public init() {}

    func install(_ router: any EntityCallRouter) {
        self.router.withLock { $0 = router }
    }

    /// Creates an entity with the given id (the runtime's activation).
    func activate<E: Entity>(_ type: E.Type, id: EntityID) -> E {
        Self.$activating.withValue(id) { E(actorSystem: self) }
    }

    public func resolve<Act>(id: EntityID, as actorType: Act.Type) throws -> Act?
    where Act: DistributedActor, Act.ID == EntityID {
        nil  // always a proxy: calls go through the mailbox
    }

    public func assignID<Act>(_ actorType: Act.Type) -> EntityID
    where Act: DistributedActor, Act.ID == EntityID {
        if let id = Self.activating { return id }
        let number = anonymous.add(1, ordering: .relaxed).newValue
        return EntityID(type: String(describing: actorType), key: "unrouted-\(number)")
    }

    public func actorReady<Act>(_ actor: Act) where Act: DistributedActor, Act.ID == EntityID {}

    public func resignID(_ id: EntityID) {}

    public func makeInvocationEncoder() -> ShoalInvocationEncoder {
        ShoalInvocationEncoder()
    }

    public func remoteCall<Act, Err, Res>(
        on actor: Act, target: RemoteCallTarget, invocation: inout ShoalInvocationEncoder,
        throwing: Err.Type, returning: Res.Type
    ) async throws -> Res where Act: DistributedActor, Act.ID == EntityID, Err: Error, Res: Codable {
        switch try await deliver(actor.id, target, invocation.invocation) {
        case .value(let data): return try CanonicalJSON.decode(Res.self, from: data)
        case .void: throw ShoalError(code: .invocation, reason: "\(target) returned nothing")
        case .error(let failure): throw failure.error(calling: target.identifier, on: actor.id)
        }
    }

    public func remoteCallVoid<Act, Err>(
        on actor: Act, target: RemoteCallTarget, invocation: inout ShoalInvocationEncoder, throwing: Err.Type
    ) async throws where Act: DistributedActor, Act.ID == EntityID, Err: Error {
        if case .error(let failure) = try await deliver(actor.id, target, invocation.invocation) {
            throw failure.error(calling: target.identifier, on: actor.id)
        }
    }

    private func deliver(_ id: EntityID, _ target: RemoteCallTarget, _ invocation: ShoalInvocation) async throws
        -> ShoalResultHandler.Outcome {
        // Every try of this call, across retries and nodes, carries one id:
        // unique to this process and, by its random part, to it. (A fresh
        // UUID read the system's random source on every call.)
        let callID = Self.callID ?? Self.callIDs.nextText()
        return try await deliver(EntityCall(id: id, target: target.identifier, invocation: invocation, callID: callID))
    }

    private static let callIDs = UniqueNumbers()

    /// The id the calls made within ``withCallID(_:_:)`` carry.
    @TaskLocal static var callID: String?

    /// Runs `body`, whose call carries `id`. A call that changes the
    /// entity's state is applied once per id: called again with the same id
    /// (a retry after a timeout, by this process or another), it is
    /// answered with the first execution's outcome. Without it, each call
    /// gets an id of its own, kept across the runtime's own retries. Make
    /// one call per id: a second call with the same id on the same entity
    /// is taken for a retry of the first.
    public static func withCallID<Result: Sendable>(_ id: String, _ body: () async throws -> Result) async rethrows -> Result {
        try await $callID.withValue(id) { try await body() }
    }

    func deliver(_ call: EntityCall) async throws -> ShoalResultHandler.Outcome {
        guard let router = router.withLock({ $0 }) else {
            throw ShoalError(code: .invocation, reason: "no node or client runs this actor system; cannot reach \(call.id)")
        }
        return try await router.deliver(call)
    }

    /// Runs a call on the local entity instance (its mailbox's turn).
    func execute(_ call: EntityCall, on entity: some DistributedActor) async -> ShoalResultHandler.Outcome {
        let box = OutcomeBox()
        var decoder = ShoalInvocationDecoder(call.invocation)
        do {
            try await executeDistributedTarget(
                on: entity, target: RemoteCallTarget(call.target), invocationDecoder: &decoder,
                handler: ShoalResultHandler { box.set($0) }
            )
        } catch {
            return .error(CallFailure(code: ShoalError.Code.invocation.description, reason: "\(call.id) \(call.target): \(error)"))
        }
        return box.value ?? .error(CallFailure(code: ShoalError.Code.invocation.description, reason: "\(call.target) produced no result"))
    }
}

private final class OutcomeBox: Sendable {
    private let storage = Mutex<ShoalResultHandler.Outcome?>(nil)
    func set(_ outcome: ShoalResultHandler.Outcome) { storage.withLock { $0 = outcome } }
    var value: ShoalResultHandler.Outcome? { storage.withLock { $0 } }
}
