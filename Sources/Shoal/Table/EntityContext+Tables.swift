extension EntityContext {
    /// The latest value of `key` in the table `table` (a topic declared
    /// with ``Topology/table(_:)``), decoded from JSON; nil when the table
    /// has none. What a lookup returns is journaled with the record, so a
    /// replay of the node's file answers it with what the node saw.
    ///
    /// ```swift
    /// let profile = try context.lookup(payment.customer, in: "profiles", as: Profile.self)
    /// ```
    /// Lookups run in event handlers only: a timer's firing has no journal
    /// row to record what it saw, so a replay could not show it the same.
    /// Keep what a timer needs in the state.
    /// - Throws: ``ShoalError`` with code `configuration` for a table the
    ///   topology does not declare, `decoding` for a value that does not
    ///   decode as `Value`; ``LookupInTimer`` in `timerFired`.
    public func lookup<Value: Decodable>(_ key: String, in table: String, as type: Value.Type = Value.self) throws -> Value? {
        guard let bytes = try lookupBytes(key, in: table) else { return nil }
        do {
            return try bytes.withUnsafeBytes { try CanonicalJSON.decode(Value.self, from: $0) }
        } catch {
            throw ShoalError(code: .decoding, reason: "table \(table), key \(key): cannot decode \(Value.self): \(error)")
        }
    }

    /// The latest value of `key` in `table` as raw bytes; nil when none.
    /// Within one event, every lookup of a key answers what the first did.
    /// - Throws: ``ShoalError`` with code `configuration` for a table the
    ///   topology does not declare; ``LookupInTimer`` in `timerFired`.
    public func lookupBytes(_ key: String, in table: String) throws -> [UInt8]? {
        if let timer { throw LookupInTimer(table: table, timer: timer.name) }
        // One value per key within one event: a second lookup sees what the
        // first saw (and what the journal recorded), even if the table moved.
        if let earlier = outputs.earlierRead(table: table, key: key) { return earlier.value }
        guard let found = tables.value(in: table, key: key) else {
            throw ShoalError(code: .configuration, reason: "no table \(table): declare it with topology.table(\"\(table)\")")
        }
        outputs.read(TableRead(table: table, key: key, value: found))
        return found
    }
}

/// A table lookup in `timerFired`: refused at once (no retry can fix it).
public struct LookupInTimer: NonRetryableError, CustomStringConvertible {
    /// The table and the timer.
    public var table: String
    public var timer: String

    public var description: String {
        "table \(table) looked up in timer \(timer): lookups run in event handlers only (a replay could not show a timer what it saw); keep what the timer needs in the state"
    }
}
