import Foundation

/// An entity's state read live from the node that owns its key, in the
/// entity's turn (after the events before the query), as
/// ``ShoalActorSystem/state(of:)`` returns it.
public struct LiveEntityState: Sendable, Codable, Hashable {
    /// The entity type.
    public var entity: String
    public var key: String
    /// The version of the entity's `State` type.
    public var version: Int64
    /// The offset of the last record applied to it.
    public var offset: Int64
    /// The partition that owns the key (its lead topic's).
    public var partition: String
    /// The state, encoded as snapshots store it (canonical JSON).
    public var state: [UInt8]
}

extension EntityCall {
    /// The target of a state query, answered by the runtime, not by the entity.
    static let stateTarget = "$shoal.state"
}

extension ShoalActorSystem {
    /// The live state of the entity with `id`, read on the node that owns
    /// its key (this one, or another node through a remote call); nil when
    /// no event or call has given it a state yet.
    public func state(of id: EntityID) async throws -> LiveEntityState? {
        switch try await deliver(EntityCall(id: id, target: EntityCall.stateTarget, invocation: ShoalInvocation())) {
        case .value(let data):
            return try JSONDecoder().decode(LiveEntityState.self, from: data)
        case .void:
            throw ShoalError(code: .invocation, reason: "the state query of \(id) returned nothing")
        case .error(let failure):
            if failure.code == ShoalError.Code.notFound.description { return nil }
            throw failure.error(calling: EntityCall.stateTarget, on: id)
        }
    }
}
