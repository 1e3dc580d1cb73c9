import ShoalKafka

// Held records: when an entity's next record is queued right behind the
// one it runs, the runtime does not encode the state after the first: the
// next one's state covers both, and one snapshot per commit is all the file
// keeps. Encoding the state after every record was the largest single cost
// of entities with real states (16.6 % of the demo's nodes, `perf`).
//
// A held record is applied (its handler ran) but not complete: its journal
// row and outputs wait in its mailbox, and the partition's committable
// offset stays before it, until the entity's next encoded state is taken
// with them in one lock (`Shard.applied`). What must hold for that state
// to be right is checked when the record is taken (`ShardState.holds`).
// A handler that throws, or a state that does not encode, after records
// were held gives the whole run back: the entity comes back from its last
// written state and the run's records go again one by one, each with its
// own state, as they would have without holding (handlers are
// deterministic, as a replay requires), so the failure is the one record's.

/// A record applied whose state waits for the entity's next record.
struct HeldRecord: Sendable {
    let record: KafkaRecord
    let route: Route
    let event: any Sendable
    let moment: EntityDispatch.Moment
    let outputs: [KafkaProducerMessage]
    let reads: [TableRead]

    /// The record as its mailbox held it, to run again.
    var work: MailboxWork { .record(record, route, event, moment) }
}

extension Shard {
    /// Encodes the entity's state for the records it holds, when the work
    /// behind them is not a record (a call, a timer turn) or is gone (the
    /// shard stopping took its queued records back).
    func writeHeld(of id: EntityID) async {
        // The last one is taken out: it goes in with the state, the others before it.
        let found = state.withLock { state in state.mailboxes[id].map { ($0.entity, $0.descriptor, $0.held.popLast()) } }
        guard let (resident, descriptor, last) = found, let last else { return }
        guard let entity = resident else { return await giveBack(id, descriptor, current: last.work) }
        do {
            let encoded = try await descriptor.snapshot(entity)
            let snapshot = Snapshot(entity: id.type, key: id.key, version: descriptor.stateVersion, offset: last.record.offset, state: encoded)
            applied(last.record, to: id, outputs: last.outputs, snapshot: snapshot, reads: last.reads)
        } catch {
            services.logger.warning("State after held records does not encode; running them again one by one", metadata: [
                "entity": "\(id)", "error": "\(error)",
            ])
            await giveBack(id, descriptor, current: last.work)
        }
    }

    /// Puts the held records (and `current`, the record that failed after
    /// them) back at the front of the mailbox, to run one by one with their
    /// states encoded, and brings the entity back from its last written
    /// state: the one before the first of them.
    func giveBack(_ id: EntityID, _ descriptor: EntityDescriptor, current: MailboxWork? = nil) async {
        state.withLock { state in
            guard let mailbox = state.mailboxes[id] else { return }
            var works = mailbox.held.map(\.work)
            if let current { works.append(current) }
            mailbox.held = []
            mailbox.queue.prepend(contentsOf: works)
            mailbox.unheld = works.count
        }
        _ = await restore(id, descriptor)
    }
}
