extension EntityContext {
    /// The latest value of `key` in the table `table` (a topic declared
    /// with ``Topology/table(_:)``), decoded from JSON; nil when the table
    /// has none. What a lookup returns is journaled with the record, so a
    /// replay of the node's file answers it with what the node saw.
    ///
    /// ```swift
    /// let profile = try context.lookup(payment.customer, in: "profiles", as: Profile.self)
    /// ```
    /// - Throws: ``ShoalError`` with code `configuration` for a table the
    ///   topology does not declare, `decoding` for a value that does not
    ///   decode as `Value`.
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
    ///   topology does not declare.
    public func lookupBytes(_ key: String, in table: String) throws -> [UInt8]? {
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
