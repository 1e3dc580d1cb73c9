import Foundation
import Distributed
import Synchronization

/// A business entity — an account, a device, a SKU — as a distributed actor,
/// one instance per key, activated on its first event or call.
///
/// ```swift
/// distributed actor Account: Entity {
///     typealias ActorSystem = ShoalActorSystem
///     struct State: Codable, Sendable { var balance = 0 }
///     var state = State()
///
///     init(actorSystem: ShoalActorSystem) { self.actorSystem = actorSystem }
///
///     func handle(_ payment: Payment, in context: EntityContext) throws {
///         state.balance += payment.amount
///     }
///     distributed func balance() -> Int { state.balance }
/// }
/// ```
public protocol Entity: DistributedActor where ActorSystem == ShoalActorSystem, ID == EntityID {
    /// The persisted part of the entity: encoded on passivation and
    /// checkpoints, decoded on activation.
    associatedtype State: Codable & Sendable

    /// The name routes, ids and stored state use; the type's name by default.
    static var entityType: String { get }

    /// The version of `State`, stored with every snapshot; raise it when
    /// the state's encoding changes. 1 by default.
    static var stateVersion: Int { get }

    /// Turns a snapshot written by an older `stateVersion` into the current
    /// `State`. The default decodes it as the current `State`, which works
    /// while the change only adds fields with defaults.
    static func upcast(_ encoded: Data, from version: Int) throws -> State

    /// How long the entity's state lives without events: that long after
    /// its last event (in event time when events have one, else processing
    /// time) the state expires: it is deleted from the partition's file and
    /// the next event starts from a new state. Never, by default.
    static var stateTimeToLive: Duration? { get }

    /// The entity's current state.
    var state: State { get set }

    /// Creates an entity; the runtime assigns its id.
    init(actorSystem: ShoalActorSystem)

    /// Called when a timer the entity set fires (see
    /// ``EntityContext/setTimer(_:at:)``); it may change state, emit
    /// outputs and set timers like an event handler. Does nothing by default.
    func timerFired(_ timer: EntityTimer, in context: EntityContext) async throws

    /// The entities of other types that keep a reference to this entity
    /// (its key, in their state or their journal) because of `event`, one
    /// of its events: erasing this entity has each of them scrub it (see
    /// ``ShoalActorSystem/erase(_:requester:)``). Found from its journaled
    /// events, within the journal's retention. None by default.
    static func entitiesReferencing(after event: any Sendable) -> [EntityID]

    /// Removes every reference to `erased`, an entity being erased, from
    /// the state. Does nothing by default.
    func scrub(erasing erased: EntityID) async

    /// One of this entity's journaled events (its record's value), without
    /// any reference to `erased`; nil when it holds none. Nil by default.
    static func scrubbed(event: [UInt8], erasing erased: EntityID) -> [UInt8]?
}

extension Entity {
    public static var entityType: String { TypeNames.shared.name(of: Self.self) }

    public static var stateVersion: Int { 1 }

    public static var stateTimeToLive: Duration? { nil }

    public func timerFired(_ timer: EntityTimer, in context: EntityContext) async throws {}

    public static func entitiesReferencing(after event: any Sendable) -> [EntityID] { [] }

    public func scrub(erasing erased: EntityID) async {}

    public static func scrubbed(event: [UInt8], erasing erased: EntityID) -> [UInt8]? { nil }

    public static func upcast(_ encoded: Data, from version: Int) throws -> State {
        try JSONDecoder().decode(State.self, from: encoded)
    }

    /// A reference to the entity with `key`; calls on it are delivered in
    /// the entity's per-key order, after the events that came before them.
    public static func reference(key: String, in system: ShoalActorSystem) throws -> Self {
        try resolve(id: EntityID(type: entityType, key: key), using: system)
    }
}

/// Type names, looked up once per type: `String(describing:)` of a type
/// asks the runtime on every use, about 2 % of a node's time under remote
/// calls, where every call names its entity's type (`perf`,
/// `ShoalBenchmarks calls`).
final class TypeNames: Sendable {
    static let shared = TypeNames()
    private let names = Mutex<[ObjectIdentifier: String]>([:])

    func name(of type: Any.Type) -> String {
        let id = ObjectIdentifier(type)
        if let known = names.withLock({ $0[id] }) { return known }
        let name = String(describing: type)
        names.withLock { $0[id] = name }
        return name
    }
}
