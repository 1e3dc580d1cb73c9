import ShoalKafka
import Synchronization

extension ShardPersistence {
    /// Replicates a commit to the changelog, after the file has it; writes
    /// a full image when the deltas since the last one outgrew it, or when
    /// a changelog record was lost.
    func replicate(_ commit: StoreCommit, outputs: [OutboxEntry], delivered: [OutputKey], then replicated: @escaping @Sendable () -> Void) async {
        guard var replicator else {
            // Without a changelog the file is all there is; a partition lost
            // mid-way (replication stopped) answers no call: the next owner does.
            if !replicationStopped { replicated() }
            return
        }
        let image = deliveries.withLock { $0.lastImage }
        let messages = replicator.messages(replicator.entries(for: commit, outputs: outputs, delivered: delivered, image: image))
        self.replicator = replicator
        await send(messages, input: commit.nextOffset, then: replicated)
        let lost = deliveries.withLock { deliveries in
            defer { deliveries.replicationFailed = false }
            return deliveries.replicationFailed
        }
        if replicator.imageDue || lost { await sendImage() }
    }

    /// Replicates a commit that erased entities: their removals, the
    /// commit, then a full image of the file, so that a restore starts
    /// after the erase and reads nothing of the erased entities. `then`
    /// learns, once the image's last record is reported, whether all of
    /// it was delivered (false, too, when it could not be written).
    func replicateErasing(
        _ erased: [ErasureReport], _ commit: StoreCommit, outputs: [OutboxEntry], delivered: [OutputKey],
        then finished: @escaping @Sendable (_ complete: Bool) -> Void
    ) async {
        guard var replicator else {
            // Without a changelog the file is all there is.
            finished(!replicationStopped)
            return
        }
        let image = deliveries.withLock { $0.lastImage }
        var entries = replicator.entries(for: commit, outputs: outputs, delivered: delivered, image: image, erased: erased)
        // A scrub alone: its copies purge too (an erase's removals carry the marker).
        if erased.isEmpty { entries.insert(.erased, at: 0) }
        let messages = replicator.messages(entries)
        self.replicator = replicator
        await send(messages, input: commit.nextOffset)
        await sendImage(then: finished)
    }

    /// Sends nothing more to the changelog (the partition was lost).
    func stopReplicating() {
        replicator = nil
        replicationStopped = true
    }

    /// At a hand-off: replicates the deliveries seen since the last commit
    /// (so the next owner does not publish them again), or a full image if
    /// a changelog record was lost. Returns whether it sent anything.
    func replicateHandOff(delivered: [OutputKey]) async -> Bool {
        guard var replicator, let committedNext else { return false }
        if deliveries.withLock({ $0.replicationFailed }) {
            await sendImage()
            return true
        }
        guard !delivered.isEmpty else { return false }
        let entries = delivered.map { ChangelogEntry.delivered(sourceOffset: $0.sourceOffset, position: $0.position) }
            + [replicatedProgress(replicator, committedNext)]
        let messages = replicator.messages(entries)
        self.replicator = replicator
        await send(messages, input: committedNext)
        return true
    }

    /// A progress record for a hand-off: the file's own, at `next`.
    private func replicatedProgress(_ replicator: ChangelogReplicator, _ next: Int64) -> ChangelogEntry {
        let progress = try? store.progress()
        return replicator.progress(
            next, progress?.maxEventTime, image: deliveries.withLock { $0.lastImage }, topics: progress?.topicOffsets ?? [:]
        )
    }

    /// Writes the whole file to the changelog as one image.
    func writeImage() async {
        await inTurn { await sendImage() }
    }

    /// `delivered` learns, once the image's last record is reported,
    /// whether every record of it was delivered; false when none is sent.
    private func sendImage(then delivered: (@Sendable (_ complete: Bool) -> Void)? = nil) async {
        // Past a hand-off's deadline nothing would be sent: no file read.
        guard var replicator, !handOffIsDue else {
            delivered?(false)
            return
        }
        let entries: [ChangelogEntry]
        do {
            entries = try replicator.image(of: store, previous: deliveries.withLock { $0.lastImage })
            // Cleared only once an image is on its way: a file that cannot
            // be read leaves the gap flagged for the next attempt.
            deliveries.withLock { $0.replicationFailed = false }
        } catch {
            logger.error("Cannot read the partition's file for a changelog image", metadata: [
                "partition": "\(partition)", "error": "\(error)",
            ])
            delivered?(false)
            return
        }
        let messages = replicator.messages(entries, image: true)
        self.replicator = replicator
        metrics.changelogImages.increment()
        logger.debug("Changelog image written", metadata: ["partition": "\(partition)", "records": "\(messages.count)"])
        await send(messages, input: committedNext, image: true, imageDelivered: delivered)
    }

    /// What a restore read: where the last complete image starts (named
    /// by this writer's progress records until it writes its own) and how
    /// many bytes a restore reads now. Writes an image at once when those
    /// bytes already outgrow the threshold.
    func restored(image offset: Int64?, imageBytes: Int, bytesAfterImage: Int) async {
        await inTurn { await restoredInTurn(image: offset, imageBytes: imageBytes, bytesAfterImage: bytesAfterImage) }
    }

    private func restoredInTurn(image offset: Int64?, imageBytes: Int, bytesAfterImage: Int) async {
        if let offset {
            deliveries.withLock { deliveries in
                if deliveries.lastImage == nil { deliveries.lastImage = offset }
            }
        }
        replicator?.restored(imageBytes: imageBytes, bytesAfterImage: bytesAfterImage)
        if replicator?.imageDue == true { await sendImage() }
    }

    /// Enqueues changelog records in order; the delivery of the last one
    /// (a progress record, or an image's end) moves the replicated
    /// position. An image's offset is known once its end is delivered.
    /// Sends `messages` in order; `delivered` runs when the last one's
    /// delivery is reported (delivered or failed: a failure is repaired by
    /// an image), and not at all when sending stops early.
    /// An image's `imageDelivered` learns whether all of it was delivered
    /// (false, too, when sending stops early).
    private func send(
        _ messages: [KafkaProducerMessage], input: Int64?, image: Bool = false, then delivered: (@Sendable () -> Void)? = nil,
        imageDelivered: (@Sendable (Bool) -> Void)? = nil
    ) async {
        metrics.changelogRecords.increment(by: messages.count)
        let sentImage = image ? ImageDelivery() : nil
        for (index, message) in messages.enumerated() {
            // A partition lost meanwhile (the enqueue below suspends) may
            // have a new owner writing its changelog already.
            guard replicator != nil else {
                imageDelivered?(false)
                return
            }
            if handOffIsDue {
                // The rest of this commit never reaches the changelog: a
                // restore ends inside it and takes the commit before.
                deliveries.withLock { $0.replicationFailed = true }
                imageDelivered?(false)
                return
            }
            let isLast = index == messages.count - 1
            deliveries.withLock { $0.inFlight += 1 }
            do {
                try await producer.enqueue(message) { [deliveries] result in
                    defer {
                        if isLast {
                            delivered?()
                            imageDelivered?(sentImage?.completeStart != nil)
                        }
                    }
                    deliveries.withLock { deliveries in
                        deliveries.inFlight -= 1
                        switch result {
                        case .success(let report):
                            if index == 0 { sentImage?.start.store(report.offset, ordering: .relaxed) }
                            if isLast, let start = sentImage?.completeStart { deliveries.lastImage = start }
                            guard isLast, let input else { return }
                            let position = ChangelogPosition(next: report.offset + 1, input: input)
                            if position.next > deliveries.replicated?.next ?? -1 { deliveries.replicated = position }
                        case .failure:
                            deliveries.replicationFailed = true
                            sentImage?.intact.store(false, ordering: .relaxed)
                        }
                    }
                }
            } catch {
                // The image that repairs the gap holds this commit too.
                if isLast {
                    delivered?()
                    imageDelivered?(false)
                }
                deliveries.withLock {
                    $0.inFlight -= 1
                    $0.replicationFailed = true
                }
                sentImage?.intact.store(false, ordering: .relaxed)
                logger.error("Changelog record not sent; a full image follows", metadata: [
                    "partition": "\(partition)", "error": "\(error)",
                ])
            }
        }
    }

    /// Writes the last delivered position to the file (at a hand-off).
    func recordReplicatedPosition() {
        guard let position = deliveries.withLock({ $0.replicated }), position != recordedPosition else { return }
        do {
            try store.setReplicated(position)
            recordedPosition = position
        } catch {
            logger.warning("Cannot record the replicated position", metadata: ["partition": "\(partition)", "error": "\(error)"])
        }
    }
}

/// One image on its way to the changelog: it counts (progress records name
/// it) only if every one of its records was delivered.
private final class ImageDelivery: Sendable {
    /// The changelog offset of its first record, once delivered.
    let start = Atomic<Int64>(-1)
    let intact = Atomic<Bool>(true)

    /// Where it starts, if its first record was delivered and none failed.
    var completeStart: Int64? {
        let start = start.load(ordering: .relaxed)
        return intact.load(ordering: .relaxed) && start >= 0 ? start : nil
    }
}
