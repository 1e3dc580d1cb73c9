/// A replay's tables: the topology's table topics, contents given to the
/// replay, and the records of table topics among the replayed events,
/// which change what later events' lookups see. A lookup the journal
/// recorded is answered with what the node saw (``RecordedTables``).
struct ReplayTables: Sendable {
    /// The table topics of the topology.
    let declared: Set<String>
    /// Values by table and key, before any replayed table record.
    let contents: [String: [String: [UInt8]]]
    /// Each key's replayed table records: the event index and the value
    /// (nil: deleted), in event order.
    private var timeline: [String: [String: [(index: Int, value: [UInt8]?)]]] = [:]

    init(declared: Set<String>, contents: [String: [String: [UInt8]]]) {
        self.declared = declared
        self.contents = contents
    }

    /// These tables with the table records among `events` (a record with
    /// an empty value deletes its key, as a tombstone does).
    func following(_ events: [ReplayEvent]) -> ReplayTables {
        guard !declared.isEmpty else { return self }
        var tables = self
        for (index, event) in events.enumerated() where declared.contains(event.topic) {
            tables.timeline[event.topic, default: [:]][event.key, default: []].append((index, TableRead.tableValue(event.value)))
        }
        return tables
    }

    /// The value of `key` in `table` as the event at `index` sees it; nil
    /// when `table` is not declared.
    func value(in table: String, key: String, before index: Int) -> [UInt8]?? {
        guard declared.contains(table) else { return nil }
        if let updates = timeline[table]?[key], let last = updates.last(where: { $0.index < index }) { return .some(last.value) }
        return .some(contents[table]?[key])
    }

    /// The lookups of the event at `index`: what the node recorded, else
    /// the tables as they stand before it. None for a topology without
    /// tables (the view is boxed: one allocation per replayed event).
    func view(for recorded: [TableRead], at index: Int) -> any TableLookup {
        guard !declared.isEmpty else { return NoTables() }
        return RecordedTables(recorded: recorded, fallback: ReplayTableView(tables: self, index: index))
    }
}

/// The replay's tables as one event sees them.
struct ReplayTableView: TableLookup {
    let tables: ReplayTables
    let index: Int

    func value(in table: String, key: String) -> [UInt8]?? {
        tables.value(in: table, key: key, before: index)
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
