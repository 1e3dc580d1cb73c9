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
        let store = try PartitionStore(readingAt: path)
        defer { store.close() }
        var entities: [Int64: EntityID] = [:]
        for row in try store.journal(from: 0) { entities[row.offset] = EntityID(type: row.entity, key: row.key) }
        self.entities = entities
        let prefix = events.first.map { "\($0.topic)/\($0.partition)" } ?? ""
        outputs = try store.outputHistory()
            .sorted { ($0.sourceOffset, $0.position) < ($1.sourceOffset, $1.position) }
            .map { row in
                ReplayResult.Output(
                    id: "\(prefix)/\(row.sourceOffset)/\(row.position)", topic: row.topic,
                    key: row.key.map { String(decoding: $0, as: UTF8.self) }, value: row.value ?? []
                )
            }
        var states: [EntityID: [UInt8]] = [:]
        for snapshot in try store.snapshots() { states[EntityID(type: snapshot.entity, key: snapshot.key)] = snapshot.state }
        self.states = states
    }

    /// Only the events, outputs and states of one key.
    public func only(key: String) -> RecordedPartition {
        var narrowed = self
        narrowed.events = events.filter { $0.key == key }
        let offsets = Set(narrowed.events.map(\.offset))
        narrowed.outputs = outputs.filter { output in
            output.sourceOffset.map(offsets.contains) ?? false
        }
        narrowed.states = states.filter { $0.key.key == key }
        return narrowed
    }
}

extension ReplayResult.Output {
    /// The source record's offset, from the id `topic/partition/offset/position`.
    var sourceOffset: Int64? {
        let parts = id.split(separator: "/")
        return parts.count >= 2 ? Int64(parts[parts.count - 2]) : nil
    }
}
