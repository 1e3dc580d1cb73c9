/// How a bounded run of attempts at an entity's handler or timer ended.
enum AttemptOutcome<Value> {
    /// An attempt succeeded, on `entity` (restored if an earlier one threw).
    case done(Value, entity: any Entity)
    /// The last attempt threw (or threw a ``NonRetryableError``); the entity
    /// is back at its last saved state.
    case failed(any Error, tries: Int, entity: any Entity)
    /// An attempt threw and the entity could not be activated again.
    case lost(any Error, tries: Int)

    /// "once" or "3 times", for a dead letter's reason.
    static func times(_ tries: Int) -> String { tries == 1 ? "once" : "\(tries) times" }
}

extension Shard {
    /// Runs `body` on the entity up to ``ShoalNodeConfiguration/handlerAttempts``
    /// times, with ``ShoalNodeConfiguration/retryBackoff`` between them; after
    /// an attempt that throws, the entity comes back from its last saved
    /// state (what the attempt changed is undone), and a ``NonRetryableError``
    /// ends the attempts. `failedAttempt` is told of each error.
    func attempting<Value>(
        _ id: EntityID, _ descriptor: EntityDescriptor, on entity: any Entity, failedAttempt: (Int, any Error) -> Void,
        _ body: (any Entity) async throws -> Value
    ) async -> AttemptOutcome<Value> {
        let attempts = max(1, services.configuration.handlerAttempts)
        var entity = entity
        var attempt = 1
        while true {
            do {
                return .done(try await body(entity), entity: entity)
            } catch {
                failedAttempt(attempt, error)
                guard let restored = await restore(id, descriptor) else { return .lost(error, tries: attempt) }
                entity = restored
                guard attempt < attempts, !(error is any NonRetryableError) else { return .failed(error, tries: attempt, entity: entity) }
                try? await Task.sleep(for: services.configuration.retryBackoff)
                attempt += 1
            }
        }
    }
}
