import Foundation

/// What a node recorded in a partition file: the events it applied, the
/// outputs it emitted and the final states, to replay and compare against.
public struct RecordedPartition: Sendable {
    public var events: [ReplayEvent]
    /// The entity each applied event went to, by offset.
    public var entities: [Int64: EntityID]
    /// The outputs, ordered by source offset and position.
    public var outputs: [ReplayResult.Output]
    public var states: [EntityID: [UInt8]]

    /// Reads a partition file (`<topic>-<partition>.sqlite`).
    /// - Throws: as ``ReplayJournal/partitionFile(at:entityTypes:)``.
    public init(at path: String, entityTypes: Set<String>) throws {
        events = try ReplayJournal.partitionFile(at: path, entityTypes: entityTypes)
        let partition = try ReplayJournal.partitionOf(path)
        let store = try PartitionStore(readingAt: path)
        defer { store.close() }
        var entities: [Int64: EntityID] = [:]
        for row in try store.journal(from: 0) { entities[row.offset] = EntityID(type: row.entity, key: row.key) }
        self.entities = entities
        // Records forwarded to their key's partition are not the handlers'
        // outputs: a replay applies them where they arrived.
        outputs = try store.outputHistory().filter { row in
            !(row.decodedHeaders ?? []).contains { $0.key == RecordOrigin.header }
        }.map { row in
            ReplayResult.Output(
                source: OutputID(source: partition, offset: row.sourceOffset, position: row.position), topic: row.topic,
                key: row.key.map { String(decoding: $0, as: UTF8.self) }, value: row.value ?? [], timestamp: row.timestamp
            )
        }.sorted { $0.source < $1.source }
        var states: [EntityID: [UInt8]] = [:]
        for snapshot in try store.snapshots() { states[EntityID(type: snapshot.entity, key: snapshot.key)] = snapshot.state }
        self.states = states
    }

    /// Only the events, outputs and states of one key.
    public func only(key: String) -> RecordedPartition {
        var narrowed = self
        narrowed.events = events.filter { $0.key == key }
        let offsets = Set(narrowed.events.map(\.offset))
        narrowed.outputs = outputs.filter { offsets.contains($0.source.offset) }
        narrowed.states = states.filter { $0.key.key == key }
        return narrowed
    }
}
