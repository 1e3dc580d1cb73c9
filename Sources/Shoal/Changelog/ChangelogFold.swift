import OrderedCollections
import ShoalKafka

/// Folds a store's changelog records, in offset order, into its partition
/// file: snapshots, removals and timers are written batch by batch; the
/// pending outputs and the last progress are kept here and written when
/// the restore ends. A scan (no file) only checks the records and notes
/// who wrote them.
struct ChangelogFold {
    let changelog: TopicPartition
    let store: String
    let storeBytes: [UInt8]
    let group: String
    /// Outputs committed and not seen delivered, in the order first written.
    var outputs: OrderedDictionary<OutputKey, OutboxEntry> = [:]
    var progress: ChangelogProgress?
    /// Writers of the progress records folded.
    var writers: Set<Int64> = []
    /// Whether an image began and ended (the same one) within the fold.
    var sawCompleteImage = false
    private var openImage: Int64?
    private var openImageOffset: Int64?
    /// Records and bytes read since the open image's start.
    private var openImageRecords: Int64 = 0
    private var openImageBytes = 0
    /// The bytes of the last complete image read, and those read after its
    /// end (all bytes read while none was).
    private(set) var lastCompleteImageBytes = 0
    private(set) var bytesAfterLastImage = 0
    /// The last image end read that counts its records, and where it is.
    private(set) var lastImageEnd: (offset: Int64, records: Int64)?
    /// The changelog offset where the last complete image read starts.
    private(set) var lastCompleteImage: Int64?
    /// The records of a commit whose progress record has not come yet.
    private var uncommitted: [ChangelogEntry] = []
    /// The offset after the last record that took effect: a copy that
    /// follows the changelog reads on from here, so that a commit cut by
    /// the end of one read is read whole by the next.
    private(set) var resumeOffset: Int64?
    /// Whether the records read end inside a commit (its writer died while
    /// sending it). Those records stay in the log: the next owner writes a
    /// full image before its first commit, or a later fold would take them
    /// for part of that commit, whose progress record they precede.
    var endsInsideCommit: Bool { !uncommitted.isEmpty }
    /// Whether the records read end inside an image (its writer died or
    /// stopped while sending it): the next owner writes a full image, or a
    /// later fold would take its commits' records for the open image's.
    var endsInsideImage: Bool { openImage != nil }
    /// Either: the next owner's first changelog records are a full image.
    var needsImage: Bool { endsInsideCommit || endsInsideImage }
    var records = 0
    var bytes = 0

    init(changelog: TopicPartition, store: String, group: String, pendingOutputs: [OutboxEntry] = []) {
        self.changelog = changelog
        self.store = store
        self.storeBytes = Array(store.utf8)
        self.group = group
        for output in pendingOutputs {
            outputs[OutputKey(sourceOffset: output.sourceOffset, position: output.position)] = output
        }
    }

    /// Folds a batch; writes its state changes to `file` unless scanning.
    ///
    /// A commit's records take effect at its progress record, which comes
    /// last: a changelog that ends inside a commit (its writer died while
    /// sending it) restores the commit before, whose records after it are
    /// processed again. An image's records take effect at once: they repeat
    /// the state of the progress before them.
    mutating func fold(_ batch: [KafkaRecord], into file: PartitionStore?) throws {
        var changes = unwritten
        unwritten = Changes()
        defer { unwritten = changes }
        for record in batch {
            guard let entry = try decode(record) else {
                if uncommitted.isEmpty { resumeOffset = record.offset + 1 }
                continue
            }
            records += 1
            let size = (record.key?.count ?? 0) + (record.value?.count ?? 0)
            bytes += size
            bytesAfterLastImage += size
            unwrittenBytes += size
            if openImage != nil { openImageBytes += size }
            switch entry {
            case .progress(let next):
                try check(next.group, at: record)
                if openImage != nil { openImageRecords += 1 }
                progress = next
                writers.insert(next.writer)
                for pending in uncommitted { apply(pending, to: &changes) }
                uncommitted = []
                resumeOffset = record.offset + 1
            case .imageStart(let image):
                try check(image.group, at: record)
                openImage = image.id
                openImageOffset = record.offset
                openImageRecords = 0
                openImageBytes = size
                uncommitted = []
                resumeOffset = record.offset + 1
            case .imageEnd(let image):
                try check(image.group, at: record)
                if let count = image.records { lastImageEnd = (record.offset, count) }
                if openImage == image.id {
                    sawCompleteImage = true
                    // Only an image read whole may start a later restore.
                    if image.records == openImageRecords {
                        lastCompleteImage = openImageOffset
                        lastCompleteImageBytes = openImageBytes
                        bytesAfterLastImage = 0
                    }
                }
                openImage = nil
                resumeOffset = record.offset + 1
            default:
                guard openImage != nil else {
                    uncommitted.append(entry)
                    continue
                }
                openImageRecords += 1
                apply(entry, to: &changes)
                resumeOffset = record.offset + 1
            }
        }
        guard let file else {
            // A scan keeps no entity's state.
            changes = Changes()
            unwrittenBytes = 0
            return
        }
        guard changes.entities >= Self.writeEvery || unwrittenBytes >= Self.writeEveryBytes else { return }
        try Self.write(changes, into: file)
        changes = Changes()
        unwrittenBytes = 0
    }

    /// Writes the changes folded and not yet written; a read ends with it.
    mutating func flush(into file: PartitionStore?) throws {
        guard let file else { return }
        try Self.write(unwritten, into: file)
        unwritten = Changes()
        unwrittenBytes = 0
    }

    /// Changes are written once this many entities changed, in one
    /// transaction, in key order: a rebuild of 15,600 keys writes each
    /// page of the file about once instead of once per batch (SQLite, one
    /// partition: random order 35 ms, key order 20 ms).
    static let writeEvery = 50_000
    /// Or once this many bytes were read since the last write: a restore's
    /// memory stays bounded with large states.
    static let writeEveryBytes = 32 << 20
    private var unwrittenBytes = 0

    private static func write(_ changes: Changes, into file: PartitionStore) throws {
        guard !changes.isEmpty else { return }
        let snapshots = changes.snapshotsInFileOrder()
        try file.applyRestored(snapshots: snapshots, removed: Array(changes.removed), timers: Array(changes.timers.values))
        if changes.purge { try file.purgeFreedPages() }
    }

    /// Changes to the file's entities, folded and not yet written.
    private var unwritten = Changes()

    private struct Changes {
        /// Snapshots in the order first read: an image lists its entities
        /// in the file's key order, which the write then keeps without
        /// sorting. A removed entity's place is left empty.
        private var snapshots: [Snapshot?] = []
        private var places: [EntityID: Int] = [:]
        private(set) var removed: Set<EntityID> = []
        var timers: [EntityID: StoredTimers] = [:]
        /// Entities were erased: the file is purged of their bytes once
        /// their removals are written.
        var purge = false

        var isEmpty: Bool { places.isEmpty && removed.isEmpty && timers.isEmpty && !purge }
        var entities: Int { places.count + removed.count + timers.count }

        mutating func save(_ snapshot: Snapshot, as id: EntityID) {
            if !removed.isEmpty { removed.remove(id) }
            if let place = places[id] {
                snapshots[place] = snapshot
            } else {
                places[id] = snapshots.count
                snapshots.append(snapshot)
            }
        }

        mutating func remove(_ id: EntityID) {
            if let place = places.removeValue(forKey: id) { snapshots[place] = nil }
            removed.insert(id)
        }

        /// The snapshots in SQLite's order of their keys: rows inserted in
        /// key order fill each page of the file once.
        func snapshotsInFileOrder() -> [Snapshot] {
            let present = snapshots.compactMap { $0 }
            let sorted = zip(present, present.dropFirst()).allSatisfy { !$1.precedesInFile($0) }
            return sorted ? present : present.sorted { $0.precedesInFile($1) }
        }
    }

    private mutating func apply(_ entry: ChangelogEntry, to changes: inout Changes) {
        switch entry {
        case .snapshot(let snapshot):
            changes.save(snapshot, as: EntityID(type: snapshot.entity, key: snapshot.key))
        case .removed(let entity, let key):
            changes.remove(EntityID(type: entity, key: key))
        case .timers(let stored):
            changes.timers[EntityID(type: stored.entity, key: stored.key)] = stored
        case .output(let output):
            outputs[OutputKey(sourceOffset: output.sourceOffset, position: output.position)] = output
        case .delivered(let sourceOffset, let position):
            outputs.removeValue(forKey: OutputKey(sourceOffset: sourceOffset, position: position))
        case .erased:
            changes.purge = true
        case .progress, .imageStart, .imageEnd:
            break
        }
    }

    private func decode(_ record: KafkaRecord) throws(ChangelogError) -> ChangelogEntry? {
        let decoded = withBytes(record.key) { key in
            withBytes(record.value) { value in
                Result { () throws(ChangelogEntry.DecodingFailure) in
                    try ChangelogEntry.decode(key: key, value: value, store: storeBytes)
                }
            }
        }
        switch decoded {
        case .success(let entry):
            return entry
        case .failure(.newerFormat(let part, let format, let supported)):
            throw ChangelogError(
                code: .newerFormat,
                reason: "\(changelog) offset \(record.offset): \(part) format \(format) is newer than this Shoal's (\(supported))"
            )
        case .failure(.malformed(let why)):
            throw ChangelogError(code: .undecodable, reason: "\(changelog) offset \(record.offset): the record does not decode: \(why)")
        }
    }

    private func check(_ writer: String, at record: KafkaRecord) throws(ChangelogError) {
        guard writer == group else {
            throw ChangelogError(
                code: .foreignApplication,
                reason: "\(changelog) offset \(record.offset) was written by group \(writer), not \(group): another application's changelog"
            )
        }
    }

    /// Where the last complete image the changelog holds starts, as far as
    /// this fold knows: one it read whole, or the one its last progress
    /// record names.
    var knownImage: Int64? {
        [lastCompleteImage, progress?.image].compactMap { $0 }.max()
    }

    /// The progress to write: the changelog's, as a store's progress.
    var storeProgress: StoreProgress? {
        progress.map {
            StoreProgress(nextOffset: $0.nextOffset, snapshotOffset: $0.nextOffset, maxEventTime: $0.maxEventTime, topicOffsets: $0.topicOffsets)
        }
    }
}

private func withBytes<Value>(_ bytes: KafkaBytes?, _ body: (UnsafeRawBufferPointer?) -> Value) -> Value {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { buffer in body(buffer) }
}

private extension Snapshot {
    /// Whether this snapshot's row comes before `other`'s in the file. Swift
    /// compares ASCII (and other NFC) text by its bytes, as SQLite does; a
    /// key where the two orders differ only costs the write some locality.
    /// (The UTF-8 views' `lexicographicallyPrecedes` cost a restore of
    /// 1,000,000 keys 1.05 s of CPU in sorting, `<` 0.28 s, and keeping an
    /// image's own order, which needs no sort, 0.10 s.)
    func precedesInFile(_ other: Snapshot) -> Bool {
        if entity != other.entity { return entity < other.entity }
        return key < other.key
    }
}
