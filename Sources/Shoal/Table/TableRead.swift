/// One table lookup a handler made: the table, the key and the value it
/// found (nil: none). A node journals a record's lookups with it, so that
/// a replay answers them with what the node's handler saw.
package struct TableRead: Sendable, Hashable {
    package var table: String
    package var key: String
    package var value: [UInt8]?

    package init(table: String, key: String, value: [UInt8]?) {
        self.table = table
        self.key = key
        self.value = value
    }

    /// Lookups as the journal keeps them: a count, then each table, key
    /// and optional value in the changelog's length-prefixed fields. Nil
    /// for none.
    package static func encode(_ reads: [TableRead]) -> [UInt8]? {
        ChangelogWriter.list(reads) { writer, read in
            writer.string(read.table)
            writer.string(read.key)
            writer.optionalData(read.value)
        }
    }

    /// The lookups `bytes` hold; nil when they do not decode.
    package static func decode(_ bytes: [UInt8]?) -> [TableRead]? {
        ChangelogReader.list(bytes) { reader throws(ChangelogReader.Truncated) in
            TableRead(table: try reader.string(), key: try reader.string(), value: try reader.optionalData())
        }
    }
}

extension TableRead {
    /// What a table record sets its key to: nil (the key deleted) for a
    /// record without a value or with an empty one, as a tombstone. A
    /// node's tables and a replay's read records alike.
    static func tableValue(_ value: [UInt8]?) -> [UInt8]? {
        value.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Where a handler's table lookups are answered: a node's tables, or in a
/// replay the lookups the node recorded.
protocol TableLookup: Sendable {
    /// The value of `key` in `table`: `.some(nil)` when it has none, nil
    /// when `table` is not a table of the topology.
    func value(in table: String, key: String) -> [UInt8]??
}

/// No tables (a context outside a node or a replay).
struct NoTables: TableLookup {
    func value(in table: String, key: String) -> [UInt8]?? { nil }
}
