import ShoalKafka

/// Where a node replicates its partitions' files.
struct ChangelogTarget: Sendable {
    /// The changelog topic; partition N of it holds partition N of every input topic.
    let topic: String
    /// The application's group, written into progress records and images.
    let group: String
    /// Changelog bytes after which a full image is written (at least the
    /// last image's size); nil: never (a compacting cluster needs none).
    let imageThreshold: Int?
}

/// Turns a shard's commits into changelog records, and writes full images
/// so that a changelog that drops old records (retention without
/// compaction) always holds a complete image and everything after it.
struct ChangelogReplicator: Sendable {
    let changelog: TopicPartition
    let store: String
    let group: String
    let writer: Int64
    let imageThreshold: Int?
    private var bytesSinceImage = 0
    private var lastImageBytes = 0
    private var images: Int64 = 0

    init(target: ChangelogTarget, partition: TopicPartition, writer: Int64) {
        changelog = TopicPartition(target.topic, partition.partition)
        store = partition.topic
        group = target.group
        imageThreshold = target.imageThreshold
        self.writer = writer
    }

    /// The records of one commit, ordered so that every prefix of them is
    /// consistent: an entity's outputs and timers come before its
    /// snapshot (a restore that has the snapshot skips the records it
    /// reflects, so their outputs must be there), and the progress last.
    func entries(
        for commit: StoreCommit, outputs: [OutboxEntry], delivered: [OutputKey], image: Int64? = nil, erased: [ErasureReport] = []
    ) -> [ChangelogEntry] {
        var entries: [ChangelogEntry] = []
        entries.reserveCapacity(outputs.count + commit.timers.count + commit.snapshots.count + delivered.count + 1)
        // Erasures first: the commit's own records of an erased key belong
        // to the entity that started anew after the erase.
        for report in erased {
            let id = report.erasure.entity
            entries.append(.removed(entity: id.type, key: id.key))
            entries.append(.timers(StoredTimers(entity: id.type, key: id.key, timers: [])))
            entries += report.unpublished.map { .delivered(sourceOffset: $0.sourceOffset, position: $0.position) }
        }
        if !erased.isEmpty { entries.append(.erased) }
        entries += outputs.map(ChangelogEntry.output)
        entries += commit.timers.map(ChangelogEntry.timers)
        entries += commit.snapshots.map(ChangelogEntry.snapshot)
        entries += commit.expired.map { ChangelogEntry.removed(entity: $0.type, key: $0.key) }
        entries += delivered.map { ChangelogEntry.delivered(sourceOffset: $0.sourceOffset, position: $0.position) }
        entries.append(progress(commit.nextOffset, commit.maxEventTime, image: image, topics: commit.topicOffsets))
        return entries
    }

    /// A progress record; `image` is where the last complete image known
    /// to this writer starts in the changelog.
    func progress(_ nextOffset: Int64, _ maxEventTime: EventTime?, image: Int64? = nil, topics: [String: Int64] = [:]) -> ChangelogEntry {
        .progress(ChangelogProgress(
            nextOffset: nextOffset, maxEventTime: maxEventTime, group: group, writer: writer, image: image, topicOffsets: topics
        ))
    }

    /// The records of a full image of `file`: everything a restore needs.
    /// Its progress record names `previous`, the last complete image before
    /// it: a log that ends inside or just after this image still tells a
    /// restore where to begin.
    mutating func image(of file: PartitionStore, previous: Int64? = nil) throws(StoreError) -> [ChangelogEntry] {
        images += 1
        let mark = ChangelogImage(group: group, id: writer &+ images)
        var entries: [ChangelogEntry] = [.imageStart(mark)]
        entries += try file.snapshots().map(ChangelogEntry.snapshot)
        entries += try file.timers().sorted { ($0.key.type, $0.key.key) < ($1.key.type, $1.key.key) }.map {
            ChangelogEntry.timers(StoredTimers(entity: $0.key.type, key: $0.key.key, timers: $0.value))
        }
        entries += try file.pendingOutputs(limit: .max).map(ChangelogEntry.output)
        if let progress = try file.progress() {
            entries.append(self.progress(progress.nextOffset, progress.maxEventTime, image: previous, topics: progress.topicOffsets))
        }
        var end = mark
        end.records = Int64(entries.count - 1)
        entries.append(.imageEnd(end))
        return entries
    }

    /// The messages for `entries`, to the store's changelog partition;
    /// counts their bytes towards the next image.
    mutating func messages(_ entries: [ChangelogEntry], image: Bool = false) -> [KafkaProducerMessage] {
        var bytes = 0
        let messages = entries.map { entry in
            let (key, value) = entry.encoded(store: store)
            bytes += key.count + (value?.count ?? 0)
            return KafkaProducerMessage(topic: changelog.topic, partition: changelog.partition, key: key, value: value)
        }
        if image {
            lastImageBytes = bytes
            bytesSinceImage = 0
        } else {
            bytesSinceImage += bytes
        }
        return messages
    }

    /// Whether the deltas since the last image outgrew it (and the threshold).
    /// After a restore: the size of the last complete image it read sets
    /// the bar, and the bytes after that image count as written here, so
    /// that the changelog stays restorable across hand-offs.
    mutating func restored(imageBytes: Int, bytesAfterImage: Int) {
        lastImageBytes = imageBytes
        bytesSinceImage = bytesAfterImage
    }

    var imageDue: Bool {
        guard let imageThreshold else { return false }
        return bytesSinceImage >= max(imageThreshold, lastImageBytes)
    }
}

/// An output's identity within its partition.
package struct OutputKey: Hashable, Sendable {
    package var sourceOffset: Int64
    package var position: Int64
}
