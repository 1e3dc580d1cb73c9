/// One record of a changelog topic: a change to a partition's file, keyed
/// so that a compacting cluster keeps the latest of each (an entity's
/// snapshot, an entity's timers, a pending output, the partition's
/// progress). A tombstone (a record without a value) removes its key.
///
/// A changelog partition can carry the records of several stores (the
/// same partition number of several input topics); every key starts with
/// its store's name, which is the input topic.
enum ChangelogEntry: Sendable, Hashable {
    /// An entity's state after the records up to `offset`.
    case snapshot(Snapshot)
    /// An entity's state expired or was erased.
    case removed(entity: String, key: String)
    /// An entity's pending timers, all of them (none removes the key).
    case timers(StoredTimers)
    /// An output committed and not yet known to be published.
    case output(OutboxEntry)
    /// An output the owner saw delivered.
    case delivered(sourceOffset: Int64, position: Int64)
    /// Where the partition stood after a commit.
    case progress(ChangelogProgress)
    /// The first and last record of a full image of the partition's file.
    case imageStart(ChangelogImage)
    case imageEnd(ChangelogImage)
    /// The commit erased entities (its removals say which): a copy purges
    /// the deleted bytes from its file, as the owner did. Names no key, so
    /// that the log keeps nothing of the erased entity.
    case erased
}

/// The partition's position after a commit, as replicated.
struct ChangelogProgress: Sendable, Hashable {
    /// The next input offset to process.
    var nextOffset: Int64
    /// The partition clock's largest event time at `nextOffset`.
    var maxEventTime: EventTime?
    /// The consumer group (the application) that wrote it.
    var group: String
    /// The shard instance that wrote it, to tell the file's own writes
    /// from another owner's.
    var writer: Int64
    /// The changelog offset where the last complete image its writer knew
    /// of starts (one it wrote, or the one it was restored from): a restore
    /// reads from there instead of from the log's start. Absent in records
    /// of earlier Shoals, and nil before any image.
    var image: Int64? = nil
    /// In a shard fed by several topics, each topic's next offset (then
    /// `nextOffset` is the next position in the shard's order); absent
    /// otherwise.
    var topicOffsets: [String: Int64] = [:]
}

/// An image's identity: its writer's group and a number.
struct ChangelogImage: Sendable, Hashable {
    var group: String
    var id: Int64
    /// On the image's end: how many records lie between its start and its
    /// end, so that a reader counts it only if it saw every one (a record
    /// lost in delivery leaves a matching start and end around a gap).
    /// Absent in records written before it was added.
    var records: Int64?
}

extension ChangelogEntry {
    /// The record format this Shoal reads; a newer one is refused. Keys
    /// are written in format 1 (a compacting cluster keeps the last record
    /// of each key, so a key's bytes never change), the erase marker's in
    /// format 2 (see ``keyFormat``); a value is
    /// written in format 2 only when it carries what format 1 cannot (a
    /// snapshot's per-topic offsets, an output's explicit partition; format
    /// 3: a snapshot's recent state-changing calls, which earlier Shoals
    /// cannot read: no going back once calls changed state), so that files of one topic stay
    /// readable by earlier Shoals.
    static let format: UInt8 = 3
    /// The newest key format read: 2 only for the erase marker, so that a
    /// Shoal from before erasure refuses it as newer rather than as
    /// undecodable (a one-way upgrade, as calls' format 3 is).
    static let keyFormat: UInt8 = 2

    enum Kind: UInt8 {
        case snapshot = 0x53  // S
        case timers = 0x54  // T
        case output = 0x4F  // O
        case progress = 0x50  // P
        case imageStart = 0x42  // B
        case imageEnd = 0x45  // E
        case erased = 0x58  // X
    }

    /// The record's key and value (nil for a tombstone) for `store`.
    func encoded(store: String) -> (key: [UInt8], value: [UInt8]?) {
        var key = ChangelogWriter()
        key.byte(kind == .erased ? 2 : 1)
        key.byte(kind.rawValue)
        key.string(store)
        var value = ChangelogWriter()
        switch self {
        case .snapshot(let snapshot):
            key.string(snapshot.entity)
            key.string(snapshot.key)
            let format: UInt8 = !snapshot.calls.isEmpty ? 3 : snapshot.sources.isEmpty ? 1 : 2
            value.byte(format)
            value.int64(snapshot.version)
            value.int64(snapshot.offset)
            value.int64(snapshot.firings)
            if format >= 2 { value.offsets(snapshot.sources) }
            if format >= 3 { RecentCall.write(snapshot.calls, to: &value) }
            value.tail(snapshot.state)
        case .removed(let entity, let entityKey):
            value.byte(1)
            key.string(entity)
            key.string(entityKey)
            return (key.bytes, nil)
        case .timers(let timers):
            value.byte(1)
            key.string(timers.entity)
            key.string(timers.key)
            guard !timers.timers.isEmpty else { return (key.bytes, nil) }
            value.int64(Int64(timers.timers.count))
            for timer in timers.timers {
                value.string(timer.name)
                value.byte(timer.clock == .eventTime ? 0 : 1)
                value.int64(timer.due.milliseconds)
            }
        case .output(let output):
            value.byte(output.partition == nil ? 1 : 2)
            key.int64(output.sourceOffset)
            key.int64(output.position)
            value.string(output.topic)
            value.optionalData(output.key)
            value.optionalData(output.value)
            value.optionalData(output.headers)
            value.optionalInt64(output.timestamp)
            if let partition = output.partition { value.int64(Int64(partition)) }
        case .delivered(let sourceOffset, let position):
            value.byte(1)
            key.int64(sourceOffset)
            key.int64(position)
            return (key.bytes, nil)
        case .progress(let progress):
            value.byte(progress.topicOffsets.isEmpty ? 1 : 2)
            value.int64(progress.nextOffset)
            value.optionalInt64(progress.maxEventTime?.milliseconds)
            value.string(progress.group)
            value.int64(progress.writer)
            value.optionalInt64(progress.image)
            if !progress.topicOffsets.isEmpty { value.offsets(progress.topicOffsets) }
        case .imageStart(let image):
            value.byte(1)
            value.string(image.group)
            value.int64(image.id)
        case .imageEnd(let image):
            value.byte(1)
            value.string(image.group)
            value.int64(image.id)
            value.optionalInt64(image.records)
        case .erased:
            value.byte(1)
        }
        return (key.bytes, value.bytes)
    }

    private var kind: Kind {
        switch self {
        case .snapshot, .removed: .snapshot
        case .timers: .timers
        case .output, .delivered: .output
        case .progress: .progress
        case .imageStart: .imageStart
        case .imageEnd: .imageEnd
        case .erased: .erased
        }
    }
}
