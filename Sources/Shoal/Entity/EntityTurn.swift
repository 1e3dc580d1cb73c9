/// How a handler or a timer runs on an entity, in a node's shard and in a
/// replay alike, so that both leave the same state after one that throws:
/// up to `attempts` tries; after a try that throws, the entity comes back
/// from its last saved state (what the try changed is undone), and a
/// ``NonRetryableError`` ends the tries. Where the entity's saved state
/// comes from (the partition file, or the replay's own record of it) is
/// the caller's `rollback`.
struct EntityTurn: Sendable {
    /// Tries per handler or timer firing (at least one).
    var attempts: Int
    /// The wait between tries: a node's ``ShoalNodeConfiguration/retryBackoff``;
    /// none in a replay, which has no outside world to wait for.
    var backoff: Duration = .zero

    init(attempts: Int, backoff: Duration = .zero) {
        self.attempts = max(1, attempts)
        self.backoff = backoff
    }

    /// Runs `body` on `entity`, trying again on the entity `rollback` brings
    /// back (nil: it cannot be activated again). `failedAttempt` is told of
    /// each error.
    nonisolated(nonsending) func run<Value>(
        on entity: any Entity, rollback: () async -> (any Entity)?, failedAttempt: (Int, any Error) -> Void,
        _ body: (any Entity) async throws -> Value
    ) async -> Outcome<Value> {
        do {
            return .done(try await body(entity), entity: entity)
        } catch {
            return await retry(after: error, on: entity, rollback: rollback, failedAttempt: failedAttempt, body)
        }
    }

    /// The tries after a first one that threw `error`. A caller on a hot
    /// path makes the first try itself and calls this only when it threw.
    nonisolated(nonsending) func retry<Value>(
        after error: any Error, on entity: any Entity, rollback: () async -> (any Entity)?, failedAttempt: (Int, any Error) -> Void,
        _ body: (any Entity) async throws -> Value
    ) async -> Outcome<Value> {
        var entity = entity
        var error = error
        var attempt = 1
        while true {
            failedAttempt(attempt, error)
            guard let restored = await rollback() else { return .lost(error, tries: attempt) }
            entity = restored
            guard attempt < attempts, !(error is any NonRetryableError) else { return .failed(error, tries: attempt, entity: entity) }
            if backoff > .zero { try? await Task.sleep(for: backoff) }
            attempt += 1
            do {
                return .done(try await body(entity), entity: entity)
            } catch let next {
                error = next
            }
        }
    }

    /// How a run of tries ended.
    enum Outcome<Value> {
        /// A try succeeded, on `entity` (brought back if an earlier one threw).
        case done(Value, entity: any Entity)
        /// The last try threw (or threw a ``NonRetryableError``); the entity
        /// is back at its last saved state.
        case failed(any Error, tries: Int, entity: any Entity)
        /// A try threw and the entity could not be activated again.
        case lost(any Error, tries: Int)
    }

    /// Why a record's handler gave up: a node's dead letter and a replay's
    /// failure say the same.
    static func handlerFailure(_ id: EntityID, tries: Int, _ error: any Error) -> String {
        "handler of \(id) threw \(times(tries)): \(error)"
    }

    /// Why a timer firing gave up.
    static func timerFailure(_ timer: EntityTimer, of id: EntityID, tries: Int, _ error: any Error) -> String {
        "timer \(timer.name) of \(id) threw \(times(tries)): \(error)"
    }

    /// Why a timer firing gave up with its entity gone: it threw and its
    /// saved state could not be activated again.
    static func timerLost(_ timer: EntityTimer, of id: EntityID, _ error: any Error) -> String {
        "timer \(timer.name) of \(id) threw (\(error)) and the entity could not be activated again"
    }

    /// "once" or "3 times".
    static func times(_ tries: Int) -> String { tries == 1 ? "once" : "\(tries) times" }
}
