/// A replay's tables: the topology's table topics, and contents for
/// lookups the events did not record (hand-written events, or a handler
/// that now looks up a key the node's did not).
struct ReplayTables: TableLookup {
    /// The table topics of the topology.
    let declared: Set<String>
    /// Values by table and key, for lookups a journal did not record.
    let contents: [String: [String: [UInt8]]]

    func value(in table: String, key: String) -> [UInt8]?? {
        guard declared.contains(table) else { return nil }
        return .some(contents[table]?[key])
    }

    /// The lookups of one event: what the node recorded, else `contents`.
    func answering(_ recorded: [TableRead]) -> RecordedTables {
        RecordedTables(recorded: recorded, fallback: self)
    }
}

/// One journaled event's lookups, answered as the node's handler saw them;
/// others by `fallback`.
struct RecordedTables: TableLookup {
    let recorded: [TableRead]
    let fallback: any TableLookup

    func value(in table: String, key: String) -> [UInt8]?? {
        if let read = recorded.first(where: { $0.table == table && $0.key == key }) { return .some(read.value) }
        return fallback.value(in: table, key: key)
    }
}
