extension ShardPersistence {
    /// Runs `body` alone, in call order. The actor alone is not enough:
    /// every enqueue to the producer suspends, and a second commit entering
    /// then would send its changelog records among the first's and publish
    /// its outputs before the first's, so a key's outputs would leave out of
    /// their order.
    func inTurn<T>(_ body: () async -> T) async -> T {
        if turnTaken {
            await withCheckedContinuation { turnWaiters.append($0) }
        } else {
            turnTaken = true
        }
        defer {
            // The turn passes straight to the next waiter, never freed in
            // between, so that no newcomer overtakes it.
            if let next = turnWaiters.popFirst() { next.resume() } else { turnTaken = false }
        }
        return await body()
    }
}
