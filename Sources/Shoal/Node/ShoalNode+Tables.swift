import ShoalKafka

extension ShoalNode {
    /// The node's tables read to the end of their logs, and the reader
    /// that follows them; nil when the topology declares none.
    /// - Throws: ``ShoalError`` with code `configuration` naming a table
    ///   topic the cluster lacks; what reading throws.
    func loadedTables(_ topology: Topology, topics: [String: Int]) async throws -> (GlobalTables, KafkaPartitionReader)? {
        guard !topology.tableTopics.isEmpty else { return nil }
        var counts: [String: Int] = [:]
        for topic in topology.tableTopics {
            guard let count = topics[topic] else {
                throw ShoalError(code: .configuration, reason: "the table topic \(topic) does not exist")
            }
            counts[topic] = count
        }
        let tables = GlobalTables(counts: counts, logger: logger)
        let reader = try KafkaPartitionReader(client: configuration.client, logger: logger)
        let started = ContinuousClock.now
        try await tables.catchUp(reader)
        logger.info("Tables read", metadata: [
            "tables": "\(topology.tableTopics)", "keys": "\(topology.tableTopics.map(tables.count(of:)))",
            "seconds": "\(ContinuousClock.now - started)",
        ])
        return (tables, reader)
    }

    /// The latest value of `key` in the table `table` as this node has
    /// read it; nil when none (or when the node is not running).
    package func tableValue(_ table: String, key: String) -> [UInt8]? {
        guard let tables = state.withLock({ $0.services?.tables }) else { return nil }
        return tables.value(in: table, key: key) ?? nil
    }
}
