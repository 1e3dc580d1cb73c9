import Foundation

extension EntityCall {
    /// The target of an erase, run by the runtime in the entity's turn.
    static let eraseTarget = "$shoal.erase"

    /// Who asked for an erase, as its first argument says.
    var requester: String {
        invocation.arguments.first.map { String(decoding: $0, as: UTF8.self) } ?? "unknown"
    }
}

extension ShoalActorSystem {
    /// Erases the entity with `id` (right to erasure, GDPR and CCPA), on
    /// the node that owns its key, while the node runs: its state, timers,
    /// journal rows and outputs, published or not, leave the partition's
    /// file, whose freed pages and write-ahead log are purged; the
    /// changelog gets the removals and then a full image, so that no
    /// restore brings the entity back, and standby copies purge it too.
    /// The owner logs an audit line (who asked, what kind of rows and how
    /// many; never the key or the data). Returns once all of that is done.
    ///
    /// The erase runs in the entity's turn: records and calls that came
    /// before it are erased with it; later ones start a new entity.
    /// Records already in Kafka topics (inputs, published outputs) are
    /// beyond it: their retention is the operator's.
    /// - Parameter requester: who asks, for the audit line.
    /// - Throws: ``ShoalError`` when the owner cannot be reached or the
    ///   entity type is unknown.
    public func erase(_ id: EntityID, requester: String) async throws {
        var invocation = ShoalInvocation()
        invocation.arguments = [Data(requester.utf8)]
        let call = EntityCall(id: id, target: EntityCall.eraseTarget, invocation: invocation, callID: UUID().uuidString)
        switch try await deliver(call) {
        case .void, .value: return
        case .error(let failure): throw failure.error(calling: EntityCall.eraseTarget, on: id)
        }
    }
}
