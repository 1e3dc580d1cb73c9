import Foundation
import Logging
import ShoalKafka
import Synchronization
import Tracing

extension Shard {
    /// Runs an entity's mailbox until it is empty, one work item at a time;
    /// for a caller that found it idle (`callerFirst`), only the first item,
    /// its own call, then the rest (if any) goes to a task of its own: the
    /// caller never runs others' work (a state-changing call's answer waits
    /// for a commit, and others' work could wait on the caller).
    func drain(_ id: EntityID, callerFirst: Bool = false) async {
        // A record's turn takes the next work in the lock it ends in.
        var taken: ShardState.MailboxNext?
        while true {
            let next = taken ?? state.withLock { $0.next(for: id) }
            taken = nil
            switch next {
            case .idle: return
            case .writeHeld: _ = await writeHeld(of: id, orGiveBack: nil)
            case .turn(let turn):
                taken = await take(turn, of: id, takingNext: !callerFirst)
                if callerFirst {
                    handOff(id)
                    return
                }
            }
        }
    }

    /// One item of the entity's mailbox, in the entity's turn. With
    /// `takingNext`, a record's turn may end by taking the mailbox's next
    /// work in its last lock, and returns it.
    private func take(_ turn: MailboxTurn, of id: EntityID, takingNext: Bool) async -> ShardState.MailboxNext? {
        let (work, resident, descriptor, appliedOffset, timersDue, holds, afterHeld) = turn
        switch consume work {
        case .record(let record, let route, let event, let moment):
            guard let entity = await ensureActive(id, resident, descriptor, record: record) else { return nil }
            // An activation sets the applied offset: read it again then.
            let applied = resident == nil || isShared
                ? alreadyApplied(record, to: id) : appliedOffset.map { record.offset <= $0 } ?? false
            if applied {
                complete(record.offset)
                return nil
            }
            // The entity's turn, as a replay runs it: timers that fell
            // due before the record, the record, timers due after it.
            var live: (any Entity)? = entity
            if timersDue { live = await fireCrossed(id, before: record.offset, beforeRecord: true, entity: entity, descriptor: descriptor) }
            if live == nil {
                // Its state expired (or a timer failed): a new activation.
                live = await ensureActive(id, nil, descriptor, record: record)
            }
            guard let entity = live else { return nil }
            let holding = Holding(holds: holds, afterHeld: afterHeld, takingNext: takingNext)
            switch await handle(record, route: route, event: event, moment: moment, entity: entity, id: id, holding: holding) {
            case .applied(let after):
                if after.timersDue { _ = await fireCrossed(id, before: record.offset + 1, entity: after.entity, descriptor: descriptor) }
                return after.next
            case .deadLettered:
                if let current = state.withLock({ $0.mailboxes[id]?.entity }) {
                    _ = await fireCrossed(id, before: record.offset + 1, entity: current, descriptor: descriptor)
                }
            case .held(let next):
                return next  // no timer falls due before the next record (`ShardState.holds`)
            case .givenBack:
                break  // it runs again
            }
        case .timers(let position):
            // Nothing may be due any more (fired in an earlier turn, or
            // the state expired): then the entity stays as it is.
            guard state.withLock({ $0.timers.hasCrossed(id, before: position + 1) }),
                  let entity = await ensureActive(id, resident, descriptor, record: nil) else { return nil }
            _ = await fireCrossed(id, before: position + 1, entity: entity, descriptor: descriptor)
        case .call(let call, let reply, let place):
            guard let tracing = services.tracing else {
                await take(call, reply: reply, at: place, of: id, resident: resident, descriptor: descriptor, span: nil)
                return nil
            }
            let span = tracing.turnSpan(for: call)
            defer { span.end() }
            await RecordTracing.within(span) {
                await take(call, reply: reply, at: place, of: id, resident: resident, descriptor: descriptor, span: span)
            }
        }
        return nil
    }

    /// A call's turn: the runtime's own calls (erase, references, scrub,
    /// live state), or the entity's distributed method.
    private func take(
        _ call: EntityCall, reply: CallReply, at place: CallPlace, of id: EntityID, resident: (any Entity)?, descriptor: EntityDescriptor,
        span: (any Span)?
    ) async {
        switch call.target {
        case EntityCall.eraseTarget:
            await erase(id, call: call, reply: reply, at: place, descriptor: descriptor)
            return
        case EntityCall.referencesTarget:
            reply.resume(.success(await referrers(of: id, descriptor)))
            return
        case EntityCall.scrubTarget:
            await scrub(id, call: call, reply: reply, resident: resident, descriptor: descriptor)
            return
        default: break
        }
        guard let entity = await activeForCall(id, resident, descriptor, at: place) else {
            reply.resume(.failure(ShoalError(code: .handler, reason: "\(id) could not be activated")))
            return
        }
        if call.target == EntityCall.stateTarget {
            reply.resume(.success(await liveState(of: id, entity: entity, descriptor: descriptor)))
            return
        }
        await run(call, at: place, reply: reply, on: entity, id: id, descriptor: descriptor, span: span)
    }

    /// A caller ran its own call from an idle mailbox: what came in since
    /// goes on in a task, and the caller returns.
    private func handOff(_ id: EntityID) {
        let more = state.withLock { state -> Bool in
            guard let mailbox = state.mailboxes[id], !mailbox.queue.isEmpty else {
                _ = state.next(for: id)  // empty, and nothing held (a caller's drain holds none): marks it idle
                return false
            }
            return true
        }
        if more { Task { await drain(id) } }
    }

    /// Whether the entity's restored state already reflects `record`.
    private func alreadyApplied(_ record: KafkaRecord, to id: EntityID) -> Bool {
        state.withLock { $0.isApplied(record, to: id) }
    }

    /// The entity's actor, activated from its newest snapshot when not resident.
    func ensureActive(
        _ id: EntityID, _ resident: (any Entity)?, _ descriptor: EntityDescriptor, record: KafkaRecord?
    ) async -> (any Entity)? {
        if let resident { return resident }
        do {
            let snapshot: Snapshot?
            switch state.withLock({ $0.savedState(of: id) }) {
            case .unsaved(let unsaved): snapshot = unsaved
            case .expired: snapshot = nil
            case .inFile: snapshot = try persistence.store.snapshot(entity: id.type, key: id.key)
            }
            let (entity, applied, calls) = try await activate(id, descriptor, from: snapshot)
            let marks = ShardSources.appliedMarks(of: snapshot, offset: applied, shared: isShared, lead: partition.topic)
            state.withLock { state in
                state.setEntity(entity, for: id)
                state.mailboxes[id]?.appliedOffset = marks.offset
                state.mailboxes[id]?.firings = snapshot?.firings ?? 0
                state.mailboxes[id]?.sources = marks.sources
                state.mailboxes[id]?.calls = calls
            }
            services.metrics.residentEntities.increment()
            return entity
        } catch {
            let reason = "cannot activate \(id): \(error)"
            services.logger.error("Activation failed", metadata: ["entity": "\(id)", "error": "\(error)"])
            if let record { await deadLetter(record, reason: reason) }
            return nil
        }
    }

    /// How a record's turn ended.
    private enum HandledRecord {
        /// Applied, with its state (see `Shard.AppliedTurn`).
        case applied(AppliedTurn)
        /// Applied; its state waits for the entity's next record (taken
        /// in the same lock, when asked).
        case held(next: ShardState.MailboxNext?)
        /// Its handler threw after held records: all go again one by one.
        case givenBack
        /// Its handler gave up: the record went to dead letters.
        case deadLettered
    }

    /// Whether a record's state may wait for the entity's next record, and
    /// whether records before it wait (see `Shard+HeldRecords`).
    private struct Holding {
        var holds: Bool
        var afterHeld: Bool
        /// The turn may take the mailbox's next work in its last lock.
        var takingNext = false
    }

    /// Runs the handler, retrying a bounded number of times; the record, its
    /// outputs and the entity's new state then wait for the next commit.
    private func handle(
        _ record: KafkaRecord, route: Route, event: any Sendable, moment: EntityDispatch.Moment, entity: any Entity, id: EntityID,
        holding: Holding
    ) async -> HandledRecord {
        guard let tracing = services.tracing else {
            return await attemptHandling(record, route: route, event: event, moment: moment, entity: entity, id: id, holding: holding)
        }
        let span = tracing.turnSpan(for: record, entity: id.type)
        defer { span.end() }
        return await RecordTracing.within(span) {
            await attemptHandling(record, route: route, event: event, moment: moment, entity: entity, id: id, holding: holding, span: span)
        }
    }

    /// One run of the record's handler, timed.
    private func dispatch(
        _ record: KafkaRecord, route: Route, event: any Sendable, moment: EntityDispatch.Moment, to entity: any Entity, id: EntityID,
        encoding: EntityDispatch.StateEncoding, undoing: Bool = false
    ) async throws -> EntityDispatch.Applied {
        let started = ContinuousClock.now
        let result = try await EntityDispatch.apply(
            .init(record), event: event, route: route, to: entity, id: id, logger: services.logger, moment: moment,
            tables: services.tables, encoding: encoding, undoingOnThrow: undoing
        )
        services.metrics.handlerLatency.record(ContinuousClock.now - started)
        return result
    }

    private func logThrow(_ record: KafkaRecord, of id: EntityID, attempt: Int, _ error: any Error) {
        services.logger.warning("Handler threw", metadata: [
            "entity": "\(id)", "offset": "\(record.offset)", "attempt": "\(attempt)", "error": "\(error)",
        ])
    }

    /// The handler's attempts; a traced turn's outputs carry its span's context.
    private func attemptHandling(
        _ record: KafkaRecord, route: Route, event: any Sendable, moment: EntityDispatch.Moment, entity: any Entity, id: EntityID,
        holding: Holding, span: (any Span)? = nil
    ) async -> HandledRecord {
        let encoding: EntityDispatch.StateEncoding = holding.holds ? .whenTimersChange : .always
        let outcome: EntityTurn.Outcome<EntityDispatch.Applied>
        if !holding.afterHeld {
            outcome = await attempting(id, route.entity, on: entity) { logThrow(record, of: id, attempt: $0, $1) } _: { entity in
                try await dispatch(record, route: route, event: event, moment: moment, to: entity, id: id, encoding: encoding)
            }
        } else {
            // The last written state lacks the held records: a rollback to it
            // would lose them. The first try undoes itself in the entity's
            // turn instead; after a throw the held records are written with
            // the state they left, and the tries go on from there.
            do {
                let applied = try await dispatch(record, route: route, event: event, moment: moment, to: entity, id: id, encoding: encoding, undoing: true)
                outcome = .done(applied, entity: entity)
            } catch {
                guard await writeHeld(of: id, orGiveBack: .record(record, route, event, moment)) else {
                    logThrow(record, of: id, attempt: 1, error)  // its tries start again with the run
                    return .givenBack
                }
                outcome = await retrying(after: error, id, route.entity, on: entity) { logThrow(record, of: id, attempt: $0, $1) } _: { entity in
                    try await dispatch(record, route: route, event: event, moment: moment, to: entity, id: id, encoding: encoding)
                }
            }
        }
        switch outcome {
        case .done(let result, _):
            let outputs = span.map { services.tracing?.inject($0.context, into: result.outputs) ?? result.outputs } ?? result.outputs
            // A record whose handler changed timers was encoded (`whenTimersChange`):
            // nil, no timer changes but the state's expiry.
            // Should the record meant to write its state be gone (a stop took the
            // queue back), the drainer writes it next (`MailboxNext.writeHeld`).
            if result.state == nil, holding.holds {
                assert(result.timerChanges.allSatisfy(\.movesStateExpiry), "a held record's handler changed timers")
                let held = HeldRecord(
                    record: record, route: route, event: event, moment: moment, outputs: outputs, reads: result.reads,
                    timerChanges: result.timerChanges
                )
                return .held(next: holdRecord(held, of: id, takingNext: holding.takingNext))
            }
            let snapshot = Snapshot(
                entity: id.type, key: id.key, version: route.entity.stateVersion, offset: record.offset, state: result.state ?? []
            )
            let after = applied(
                record, to: id, outputs: outputs, snapshot: snapshot, timerChanges: result.timerChanges, reads: result.reads,
                takingNext: holding.takingNext
            )
            return after.map(HandledRecord.applied) ?? .deadLettered
        case .failed(let error, let tries, _), .lost(let error, let tries):
            if let span { RecordTracing.failed(span, by: error) }
            await deadLetter(record, reason: EntityTurn.handlerFailure(id, tries: tries, error))
            return .deadLettered
        }
    }

    /// The entity re-activated from its newest snapshot, dropping what a
    /// throwing handler changed; nil if it cannot be activated.
    /// The entity for a call queued at `place`, after the timers the
    /// records before it made due (as a replay fires them before the call);
    /// a state they expired starts anew.
    private func activeForCall(_ id: EntityID, _ resident: (any Entity)?, _ descriptor: EntityDescriptor, at place: CallPlace) async -> (any Entity)? {
        guard let entity = await ensureActive(id, resident, descriptor, record: nil) else { return nil }
        guard state.withLock({ $0.timers.hasCrossed(id, before: place.after + 1) }) else { return entity }
        if let fired = await fireCrossed(id, before: place.after + 1, entity: entity, descriptor: descriptor) { return fired }
        return await ensureActive(id, nil, descriptor, record: nil)
    }

    func restore(_ id: EntityID, _ descriptor: EntityDescriptor) async -> (any Entity)? {
        state.withLock { $0.setEntity(nil, for: id) }
        services.metrics.residentEntities.decrement()
        return await ensureActive(id, nil, descriptor, record: nil)
    }

    /// Passivates entities idle longer than `idleTimeout`, and the least
    /// recently used beyond `keep`.
    func sweep(idleTimeout: Duration, keep: Int) {
        let released = state.withLock { state -> Int in
            guard !state.stopping else { return 0 }
            return state.passivateIdle(idleSince: .now - idleTimeout, keep: keep)
        }
        if released > 0 { services.metrics.residentEntities.decrement(by: Double(released)) }
    }

    /// Delivers a distributed call through the entity's mailbox. Calls
    /// count against the shard's backpressure: while the shard is full
    /// (its partition paused), the caller waits, until `deadline`.
    func call(
        _ call: EntityCall, descriptor: EntityDescriptor, until deadline: ContinuousClock.Instant
    ) async throws -> ShoalResultHandler.Outcome {
        while state.withLock({ $0.paused && !$0.stopping }) {
            guard ContinuousClock.now < deadline else {
                return .error(CallFailure(code: ShoalError.Code.timedOut.description, reason: "\(partition) stayed full until the call's deadline"))
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let reply = CallReply()
        let start = state.withLock { state -> Bool? in
            guard !state.stopping else { return nil }
            let place = CallPlace(after: state.tracker.lastTaken ?? -1, watermark: state.clock?.watermark ?? .distantPast)
            return state.enqueue(.call(call, reply, place), for: call.id, descriptor: descriptor)
        }
        switch start {
        case nil: throw ShoalError(code: .notOwned, reason: "\(partition) is being handed off")
        // An idle mailbox's first item is this call: its caller runs it (a
        // task per call cost a thread hop and a wake-up on every call), unless
        // the caller is cancelled already. The turn must not inherit the
        // caller's call id nor, for a call made in another entity's call,
        // that call's context: calls its handlers make are calls of their own.
        case true?:
            await ShoalActorSystem.$callID.withValue(nil) {
                await EntityContext.$running.withValue(nil) {
                    if Task.isCancelled {
                        Task { await drain(call.id) }
                    } else {
                        await drain(call.id, callerFirst: true)
                    }
                }
            }
        case false?: break
        }
        return try await reply.value()
    }
}

extension Shard {
    /// The shard's turn: the node's attempts and back-off, rolling the
    /// entity back to its newest snapshot (unsaved, or in the file).
    func attempting<Value>(
        _ id: EntityID, _ descriptor: EntityDescriptor, on entity: any Entity, failedAttempt: (Int, any Error) -> Void,
        _ body: (any Entity) async throws -> Value
    ) async -> EntityTurn.Outcome<Value> {
        return await turn.run(on: entity, rollback: { await restore(id, descriptor) }, failedAttempt: failedAttempt, body)
    }

    /// The node's tries after a first one that threw `error` (see ``attempting``).
    func retrying<Value>(
        after error: any Error, _ id: EntityID, _ descriptor: EntityDescriptor, on entity: any Entity, failedAttempt: (Int, any Error) -> Void,
        _ body: (any Entity) async throws -> Value
    ) async -> EntityTurn.Outcome<Value> {
        await turn.retry(after: error, on: entity, rollback: { await restore(id, descriptor) }, failedAttempt: failedAttempt, body)
    }

    private var turn: EntityTurn {
        EntityTurn(attempts: services.configuration.handlerAttempts, backoff: services.configuration.retryBackoff)
    }
}

extension Shard {
    /// The entity's state as its mailbox's turn sees it: after the events
    /// before the query, in the format of a persisted snapshot.
    func liveState(of id: EntityID, entity: any Entity, descriptor: EntityDescriptor) async -> ShoalResultHandler.Outcome {
        guard let offset = state.withLock({ $0.mailboxes[id]?.appliedOffset }) else {
            return .error(CallFailure(code: ShoalError.Code.notFound.description, reason: "\(id) has no state"))
        }
        do {
            let live = LiveEntityState(
                entity: id.type, key: id.key, version: descriptor.stateVersion, offset: offset, partition: partition.description,
                state: try await descriptor.snapshot(entity)
            )
            return .value(try JSONEncoder().encode(live))
        } catch {
            return .error(CallFailure(thrown: error))
        }
    }
}
