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
// A record that runs after held records takes a copy of the state in its
// turn: if its handler throws (or its state does not encode), the copy is
// put back, written for the held records, and the record is retried and
// dead-lettered from there, exactly as without holding. Only when that
// state does not encode either (a held record made it unencodable) is the
// run given back: the entity comes back from its last written state and
// the run's records go again one by one, each with its own state
// (handlers are deterministic, as a replay requires), so that the failure
// is the one record's.

/// A record applied whose state waits for the entity's next record.
struct HeldRecord: Sendable {
    let record: KafkaRecord
    let route: Route
    let event: any Sendable
    let moment: EntityDispatch.Moment
    let outputs: [KafkaProducerMessage]
    let reads: [TableRead]
    /// Its move of the state's expiry (the only timer change a held record
    /// makes), set already in the shard's timers.
    let timerChanges: [TimerChange]

    /// The record as its mailbox held it, to run again.
    var work: MailboxWork { .record(record, route, event, moment) }
}

extension Shard {
    /// Holds an applied record for the entity's next one, in one lock
    /// with taking that next work when asked. Its move of the state's
    /// expiry is set now, so that the shard's timers are what they would
    /// be without holding (the expiry before the run is kept, to put back
    /// should the run be given back).
    func holdRecord(_ held: HeldRecord, of id: EntityID, takingNext: Bool) -> ShardState.MailboxNext? {
        state.withLock { state in
            guard let mailbox = state.mailboxes[id] else { return nil }
            if !held.timerChanges.isEmpty {
                if mailbox.expiryBeforeHeld == nil {
                    mailbox.expiryBeforeHeld = .some(state.timers.timers(of: id).timer(named: EntityTimer.stateExpiry))
                }
                state.changeTimers(held.timerChanges, of: id, from: held.record.offset, writing: false)
            }
            mailbox.held.append(held)
            return takingNext ? state.next(for: id) : nil
        }
    }

    /// Writes the held records of the entity with its state as it is now
    /// (which reflects them and nothing after them) to the pending
    /// checkpoint. When that state does not encode, gives the run back
    /// (with `current`, the record that failed after them, if any) and
    /// returns false.
    func writeHeld(of id: EntityID, orGiveBack current: MailboxWork?) async -> Bool {
        // The last one is taken out: it goes in with the state, the others before it.
        let found = state.withLock { state in state.mailboxes[id].map { ($0.entity, $0.descriptor, $0.held.popLast()) } }
        guard let (resident, descriptor, taken) = found, let last = taken else { return true }
        do {
            guard let entity = resident else { throw ShoalError(code: .handler, reason: "\(id) holds records and is not resident") }
            let encoded = try await descriptor.snapshot(entity)
            let snapshot = Snapshot(entity: id.type, key: id.key, version: descriptor.stateVersion, offset: last.record.offset, state: encoded)
            applied(last.record, to: id, outputs: last.outputs, snapshot: snapshot, timerChanges: last.timerChanges, reads: last.reads)
            return true
        } catch {
            services.logger.warning("State after held records does not encode; running them again one by one", metadata: [
                "entity": "\(id)", "error": "\(error)",
            ])
            state.withLock { $0.mailboxes[id]?.held.append(last) }
            await giveBack(id, descriptor, current: current)
            return false
        }
    }

    /// Puts the held records (and `current`, the record that failed after
    /// them, if any) back at the front of the mailbox, to run one by one
    /// with their states encoded, and brings the entity back from its last
    /// written state: the one before the first of them.
    func giveBack(_ id: EntityID, _ descriptor: EntityDescriptor, current: MailboxWork?) async {
        state.withLock { state in
            guard let mailbox = state.mailboxes[id] else { return }
            // The run goes again from the state before it: so does its expiry
            // (the entity's other timers, and where they fell due, stay).
            if let expiry = mailbox.expiryBeforeHeld, let first = mailbox.held.first {
                let changes = [TimerChange.cancel(EntityTimer.stateExpiry)] + (expiry.map { [.set($0)] } ?? [])
                state.changeTimers(changes, of: id, from: first.record.offset, writing: false)
            }
            mailbox.expiryBeforeHeld = nil
            var works = mailbox.held.map(\.work)
            if let current { works.append(current) }
            mailbox.held = []
            mailbox.queue.prepend(contentsOf: works)
            mailbox.unheld = works.count
        }
        _ = await restore(id, descriptor)
    }
}
