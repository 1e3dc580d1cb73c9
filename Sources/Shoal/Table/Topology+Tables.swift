extension Topology {
    /// Declares `topic` a table: read as the latest value per record key
    /// (a record without a value deletes its key), by every node in full
    /// (a global table: any entity can look up any key, see
    /// ``EntityContext/lookup(_:in:as:)``). A node reads its tables to the
    /// end of their logs before it processes records, then follows them.
    ///
    /// ```swift
    /// topology.table("profiles")
    /// ```
    public mutating func table(_ topic: String) {
        tables.insert(topic)
    }

    /// The topics declared as tables, in name order.
    public var tableTopics: [String] { tables.sorted() }
}
