import Foundation

/// Reads events to replay from a JSON Lines file written by hand or from a
/// partition file a node recorded.
public enum ReplayJournal {
    /// One event per line:
    /// `{"topic":"payments","key":"acct-1","value":{…},"offset":7,"partition":0,"timestamp":1700000000000}`.
    /// `offset` defaults to the line's index, `partition` to 0. A record
    /// whose value is not JSON gives it as `valueText` (UTF-8 text) or
    /// `valueBase64` instead of `value`.
    /// - Throws: ``ShoalError`` (code `journal`) naming the file and line.
    public static func jsonLines(at url: URL) throws -> [ReplayEvent] {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ShoalError(code: .journal, reason: "\(url.path): cannot read: \(error.localizedDescription)")
        }
        return try jsonLines(text, source: url.path)
    }

    /// Events from JSON Lines text (the format of ``jsonLines(at:)``);
    /// errors name `source` and the line.
    public static func jsonLines(_ text: String, source: String = "journal") throws -> [ReplayEvent] {
        var events: [ReplayEvent] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            events.append(try event(from: trimmed, index: index, file: source))
        }
        return events
    }

    private static func event(from line: String, index: Int, file: String) throws -> ReplayEvent {
        let where_ = "\(file) line \(index + 1)"
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw ShoalError(code: .journal, reason: "\(where_): not a JSON object (truncated?)")
        }
        guard let topic = object["topic"] as? String else {
            throw ShoalError(code: .journal, reason: "\(where_): no \"topic\"")
        }
        guard let key = object["key"] as? String else {
            throw ShoalError(code: .journal, reason: "\(where_): no \"key\"")
        }
        if let encoded = object["callBase64"] {
            guard let encoded = encoded as? String, let bytes = Data(base64Encoded: encoded) else {
                throw ShoalError(code: .journal, reason: "\(where_): \"callBase64\" is not base64")
            }
            var event = ReplayEvent(
                topic: topic, partition: Int32(object["partition"] as? Int ?? 0), offset: Int64(object["offset"] as? Int ?? -1), key: key, value: []
            )
            event.call = Array(bytes)
            return event
        }
        let bytes = try value(of: object, at: where_)
        return ReplayEvent(
            topic: topic, partition: Int32(object["partition"] as? Int ?? 0), offset: Int64(object["offset"] as? Int ?? index),
            key: key, value: Array(bytes), timestamp: (object["timestamp"] as? Int).map(Int64.init)
        )
    }

    /// The record value a line holds: a JSON `value`, or for a record that
    /// is not JSON its UTF-8 text (`valueText`) or its bytes in base64
    /// (`valueBase64`); exactly one of them.
    private static func value(of object: [String: Any], at where_: String) throws -> [UInt8] {
        let given = ["value", "valueText", "valueBase64"].filter { object[$0] != nil }
        guard given.count == 1 else {
            let reason = given.isEmpty ? "no \"value\"" : "both \(given.joined(separator: " and ")): give one"
            throw ShoalError(code: .journal, reason: "\(where_): \(reason)")
        }
        if let value = object["value"] { return Array(try CanonicalJSON.data(value)) }
        if let text = object["valueText"] as? String { return Array(text.utf8) }
        guard let encoded = object["valueBase64"] as? String, let bytes = Data(base64Encoded: encoded) else {
            throw ShoalError(code: .journal, reason: "\(where_): \"valueBase64\" is not base64")
        }
        return Array(bytes)
    }

    /// The journal of a partition file (`<topic>-<partition>.sqlite`) a node
    /// wrote, in offset order, with the calls that changed state each
    /// after its entity's record before it.
    /// - Parameters:
    ///   - path: the partition file.
    ///   - entityTypes: the entity types the replaying application has; a
    ///     journal row of another type fails the read, naming it.
    /// - Throws: ``StoreError`` for a file that is not a readable store
    ///   (corrupt, newer schema); ``ShoalError`` (code `journal`) otherwise.
    public static func partitionFile(at path: String, entityTypes: Set<String>) throws -> [ReplayEvent] {
        let partition = try partitionOf(path)
        let store = try PartitionStore(readingAt: path)
        defer { store.close() }
        let rows = try store.journal(from: 0)
        let calls = try store.journaledCalls(from: 0)
        for (entity, offset) in rows.map({ ($0.entity, $0.offset) }) + calls.map({ ($0.entity, $0.afterOffset) }) where !entityTypes.contains(entity) {
            throw ShoalError(
                code: .journal,
                reason: "\(path): offset \(offset) belongs to entity type \(entity), which this application does not have (\(entityTypes.sorted().joined(separator: ", ")))"
            )
        }
        return merged(rows, calls, of: partition)
    }

    /// Records and calls in the order the node ran them: each call right
    /// after the record the shard took in before it (calls keep their
    /// journal order among themselves: the shard's records only go forward).
    static func merged(_ rows: [JournalEntry], _ calls: [JournaledCall], of partition: TopicPartition) -> [ReplayEvent] {
        var events: [ReplayEvent] = []
        events.reserveCapacity(rows.count + calls.count)
        var pending = calls.enumerated().sorted { ($0.element.afterOffset, $0.offset) < ($1.element.afterOffset, $1.offset) }.map(\.element)[...]
        for row in rows {
            while let call = pending.first, call.afterOffset < row.offset {
                events.append(ReplayEvent(call, of: partition))
                pending.removeFirst()
            }
            events.append(ReplayEvent(row, of: partition))
        }
        events += pending.map { ReplayEvent($0, of: partition) }
        return events
    }

    /// The partition a journal file belongs to, from its name.
    static func partitionOf(_ path: String) throws -> TopicPartition {
        guard let partition = PartitionStore.partition(ofFile: path) else {
            throw ShoalError(code: .journal, reason: "\(path): not a partition file (<topic>-<partition>.sqlite)")
        }
        return partition
    }
}
