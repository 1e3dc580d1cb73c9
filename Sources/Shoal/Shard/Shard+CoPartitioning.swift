import ShoalKafka

extension ShardServices {
    /// Where each input partition of `lead`'s shard resumes, as its file
    /// holds it (empty for a new file: the group's committed offsets).
    func inputStarts(of lead: TopicPartition, progress: StoreProgress?) -> [TopicPartition: Int64] {
        guard let progress else { return [:] }
        // A file written before the entity type had several topics knows
        // only its lead's offset; the other topics start at the group's.
        guard !progress.topicOffsets.isEmpty else { return [lead: progress.nextOffset] }
        // Only the shard's inputs now (a topic it no longer reads is left).
        let inputs = Set(coPartitioning.inputs(of: lead))
        return Dictionary(uniqueKeysWithValues: progress.topicOffsets.map { (TopicPartition($0.key, lead.partition), $0.value) })
            .filter { inputs.contains($0.key) }
    }

    /// The order of `lead`'s shard when several topics feed it, or fed it
    /// when its file was written (nil for one): positions go on after every
    /// one the file holds. A file once numbered by positions stays so: its
    /// journal holds positions, which lead offsets would collide with.
    func sources(of lead: TopicPartition, store: PartitionStore, progress: StoreProgress?) throws -> ShardSources? {
        guard coPartitioning.isShared(lead.topic) || !(progress?.topicOffsets.isEmpty ?? true) else { return nil }
        let highest = try store.highestPosition()
        let next = max(progress?.nextOffset ?? 0, (highest ?? -1) + 1)
        let consumed = inputStarts(of: lead, progress: progress)
        return ShardSources(next: next, consumed: Dictionary(uniqueKeysWithValues: consumed.map { ($0.key.topic, $0.value) }))
    }
}

extension Shard {
    /// A shard over `lead`'s open `store`, resuming where its `progress`
    /// says: at the next offset, or for a shard fed by several topics at
    /// the next position, each topic at its own next offset.
    convenience init(lead: TopicPartition, services: ShardServices, store: PartitionStore, progress: StoreProgress?, writer: Int64 = 0) throws {
        let sources = try services.sources(of: lead, store: store, progress: progress)
        self.init(
            partition: lead, services: services, store: store,
            startOffset: sources?.next ?? services.inputStarts(of: lead, progress: progress)[lead], sources: sources, writer: writer
        )
    }
}
