import Foundation

extension EntityCall {
    /// How the runtime's own targets (erase, scrub, references, state)
    /// begin: no distributed method's mangled name does.
    static let runtimeTargetPrefix = "$shoal."
    /// The target of an erase, run by the runtime in the entity's turn.
    static let eraseTarget = "$shoal.erase"
    /// The target that asks which entities reference an entity (see
    /// ``Entity/entitiesReferencing(after:)``), answered from its journal.
    static let referencesTarget = "$shoal.references"
    /// The target that has an entity scrub its references to an erased one.
    static let scrubTarget = "$shoal.scrub"

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
    /// Entities of other types that keep a reference to it (named by its
    /// type's ``Entity/entitiesReferencing(after:)`` from its journaled
    /// events) scrub it first, from their state and journal (their
    /// ``Entity/scrub(erasing:)`` and ``Entity/scrubbed(event:erasing:)``),
    /// and again any the erase itself finds. An erase that failed before
    /// its owner committed it finds them all again when retried; one whose
    /// reply was lost after that finds none (the journal is gone): retry
    /// the scrubs from the references recorded before it.
    ///
    /// The erase runs in the entity's turn: records and calls that came
    /// before it are erased with it; later ones start a new entity.
    /// Records already in Kafka topics (inputs, published outputs) are
    /// beyond it: their retention is the operator's.
    /// - Parameters:
    ///   - id: the entity to erase.
    ///   - requester: who asks, for the audit line.
    /// - Throws: ``ShoalError`` when the owner cannot be reached or the
    ///   entity type is unknown.
    public func erase(_ id: EntityID, requester: String) async throws {
        let referrers = try await runtimeCall(EntityCall.referencesTarget, on: id)
        try await scrub(referrers, erasing: id)
        let found = try await runtimeCall(EntityCall.eraseTarget, on: id, arguments: [Data(requester.utf8)])
        try await scrub(found.filter { !referrers.contains($0) }, erasing: id)
    }

    /// Has each entity of `referrers` scrub `erased`, a few at once.
    private func scrub(_ referrers: [EntityID], erasing erased: EntityID) async throws {
        let argument = try JSONEncoder().encode(erased)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, referrer) in referrers.enumerated() {
                if index >= Self.scrubsInFlight { try await group.next() }
                group.addTask { _ = try await self.runtimeCall(EntityCall.scrubTarget, on: referrer, arguments: [argument]) }
            }
            try await group.waitForAll()
        }
    }

    private static let scrubsInFlight = 16

    /// A call the runtime answers for `id`; its value, when any, a list of ids.
    private func runtimeCall(_ target: String, on id: EntityID, arguments: [Data] = []) async throws -> [EntityID] {
        var invocation = ShoalInvocation()
        invocation.arguments = arguments
        switch try await deliver(EntityCall(id: id, target: target, invocation: invocation, callID: UUID().uuidString)) {
        case .void: return []
        case .value(let data): return try JSONDecoder().decode([EntityID].self, from: data)
        case .error(let failure): throw failure.error(calling: target, on: id)
        }
    }
}
