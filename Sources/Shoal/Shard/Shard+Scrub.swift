import Foundation

extension Shard {
    /// The entities that reference this one, by its journaled events (see
    /// ``Entity/entitiesReferencing(after:)``), as a JSON list of ids.
    func referrers(of id: EntityID, _ descriptor: EntityDescriptor) async -> ShoalResultHandler.Outcome {
        do {
            return .value(try JSONEncoder().encode(referrers(in: try await journaledEvents(of: id), of: id, descriptor)))
        } catch {
            return .error(CallFailure(thrown: error))
        }
    }

    /// The referrers `events` name, sorted.
    func referrers(in events: [(topic: String?, event: [UInt8])], of id: EntityID, _ descriptor: EntityDescriptor) -> [EntityID] {
        var found: Set<EntityID> = []
        for (topic, bytes) in events {
            guard let route = services.routes[topic ?? partition.topic], route.entity.name == id.type,
                  let decoded = try? route.decode(KafkaBytes(bytes), nil, { id.key }) else { continue }
            found.formUnion(descriptor.referencing(decoded.event))
        }
        found.remove(id)
        return found.sorted { ($0.type, $0.key) < ($1.type, $1.key) }
    }

    /// Every journaled event of the entity: those applied and not
    /// committed, and those in the file, read in the store's turn, after
    /// any commit under way (whose rows left the pending ones).
    func journaledEvents(of id: EntityID) async throws -> [(topic: String?, event: [UInt8])] {
        let pending = { [self] in
            state.withLock { state in
                state.pending.journal.filter { $0.entity == id.type && $0.key == id.key }.map { ($0.source?.topic, $0.event ?? []) }
            }
        }
        let before = pending()
        let inFile = try await persistence.journalEvents(of: id)
        return inFile + before + pending()
    }

    /// Has the entity remove its references to an erased one (the call's
    /// argument) from its state (``Entity/scrub(erasing:)``) and from its
    /// journaled events (``Entity/scrubbed(event:erasing:)``). When either
    /// changed, the reply waits for the commit, which purges the file and
    /// writes a changelog image after it, as an erase does.
    func scrub(_ id: EntityID, call: EntityCall, reply: CallReply, resident: (any Entity)?, descriptor: EntityDescriptor) async {
        guard let argument = call.invocation.arguments.first, let erased = try? JSONDecoder().decode(EntityID.self, from: argument) else {
            reply.resume(.success(.error(CallFailure(code: ShoalError.Code.invocation.description, reason: "a scrub without the erased entity"))))
            return
        }
        let changed: Bool
        do {
            let rows = try await scrubJournal(of: id, erasing: erased, descriptor)
            changed = try await scrubState(of: id, erasing: erased, resident: resident, descriptor) || rows > 0
        } catch {
            reply.resume(.success(.error(CallFailure(thrown: error))))
            return
        }
        guard changed else { return reply.resume(.success(.void)) }
        state.withLock { state in
            state.pending.purge = true
            state.awaitingCommit[CallKey(entity: id, callID: call.callID ?? UUID().uuidString), default: AwaitedReply(outcome: .void, replies: [])]
                .replies.append(reply)
        }
    }

    /// Rewrites the entity's journaled events, pending and in the file, in
    /// one turn of the store; returns how many changed.
    private func scrubJournal(of id: EntityID, erasing erased: EntityID, _ descriptor: EntityDescriptor) async throws -> Int {
        try await persistence.inTurnDo { [self] store in
            let inFile = try store.scrubJournal(of: id) { descriptor.scrubbedEvent($0, erased) }
            return inFile + state.withLock { state -> Int in
                var changed = 0
                for index in state.pending.journal.indices
                where state.pending.journal[index].entity == id.type && state.pending.journal[index].key == id.key {
                    guard let event = state.pending.journal[index].event, let scrubbed = descriptor.scrubbedEvent(event, erased) else { continue }
                    state.pending.journal[index].event = scrubbed
                    changed += 1
                }
                return changed
            }
        }
    }

    /// Scrubs the entity's state, if it has one; a changed state joins the
    /// next commit like a call's change, without a journal row (which
    /// would name the erased entity). Returns whether it changed.
    private func scrubState(of id: EntityID, erasing erased: EntityID, resident: (any Entity)?, _ descriptor: EntityDescriptor) async throws -> Bool {
        guard let entity = await ensureActive(id, resident, descriptor, record: nil) else {
            throw ShoalError(code: .handler, reason: "\(id) could not be activated")
        }
        guard state.withLock({ $0.mailboxes[id]?.appliedOffset }) != nil else {
            // No state: the activation made a fresh entity, which goes again.
            state.withLock { $0.setEntity(nil, for: id) }
            services.metrics.residentEntities.decrement()
            return false
        }
        let before = try await descriptor.snapshot(entity)
        let after = try await descriptor.scrub(entity, erased)
        guard after != before else { return false }
        state.withLock { state in
            guard let mailbox = state.mailboxes[id] else { return }
            state.pending.snapshots[id] = Snapshot(
                entity: id.type, key: id.key, version: descriptor.stateVersion, offset: mailbox.appliedOffset ?? -1, state: after,
                firings: mailbox.firings, sources: mailbox.sources, calls: mailbox.calls
            )
            state.pending.expired[id] = nil
        }
        return true
    }
}
