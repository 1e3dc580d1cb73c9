import Logging
import ShoalKafka
import Synchronization

/// Brings a partition's file up to date with its changelog before a shard
/// processes the partition:
///
/// - a file that is missing, empty, left half-restored, or written by an
///   owner whose work another owner continued since, is emptied and rebuilt
///   from the changelog (the last complete image and what follows it);
/// - a replica (a standby's copy) folds only the records after the point it
///   reflects (the tail);
/// - an active file whose owner was the changelog's last writer is kept.
struct ChangelogRestore: Sendable {
    let reader: KafkaPartitionReader
    /// The changelog topic's partition for this store.
    let changelog: TopicPartition
    let store: PartitionStore
    /// The store's name in changelog keys: the input topic.
    let storeName: String
    let group: String
    /// How long a read waits for the next record before it fails.
    var idleTimeout: Duration = .seconds(30)
    let logger: Logger

    /// What a restore did.
    struct Outcome: Sendable, Hashable {
        enum Kind: String, Sendable {
            /// The file was current: nothing was read but its own tail.
            case current
            /// The records after the file's position were folded in.
            case tail
            /// The file was rebuilt from the changelog.
            case full
        }

        var kind: Kind
        /// Changelog records of this store read and folded (or checked).
        var records = 0
        var bytes = 0
        /// Whether the changelog holds this store's progress at all: if not,
        /// the file's state must be imaged onto it.
        var changelogHasStore = false
        /// Whether the file holds commits the changelog lacks: the shard
        /// writes a full image before anything else.
        var needsImage = false
        /// Changelog records after the file's position when the read began.
        var behind: Int64 = 0
        /// Where the last complete image starts in the changelog, if known:
        /// the new owner's progress records name it.
        var image: Int64?
        /// Of `bytes`, those of the last complete image read (0 if none)
        /// and those after its end.
        var imageBytes = 0
        var bytesAfterImage = 0
    }

    func run() async throws -> Outcome {
        let (low, high) = try await watermarks()
        let replication = try store.replication()
        let progress = try store.progress()
        if replication.role == .replica, let start = replication.changelogNext, start >= low {
            return try await foldTail(from: start, to: high)
        }
        // A file processed here (or by a Shoal before replication) is kept
        // unless another owner continued its partition since.
        if let progress, replication.role == .active || replication.role == nil {
            var scan = ChangelogFold(changelog: changelog, store: storeName, group: group)
            try await read(from: max(low, replication.changelogNext ?? low), to: high, into: &scan, file: nil)
            if scan.writers.allSatisfy({ $0 == replication.writer }) {
                let replicated = scan.progress?.nextOffset ?? replication.replicatedInput
                try store.setReplication(role: .active, changelogNext: high)
                return Outcome(
                    kind: .current, records: scan.records, bytes: scan.bytes,
                    changelogHasStore: replicated != nil, needsImage: replicated != progress.nextOffset || scan.needsImage,
                    image: scan.knownImage, imageBytes: scan.lastCompleteImageBytes, bytesAfterImage: scan.bytesAfterLastImage
                )
            }
            logger.notice("Another owner wrote this partition's changelog since the file's last commit: restoring", metadata: [
                "changelog": "\(changelog)", "file": "\(store.path)",
            ])
        }
        return try await rebuild(low: low, high: high)
    }

    func watermarks() async throws -> (Int64, Int64) {
        do {
            return try await reader.watermarks(of: changelog)
        } catch {
            throw ChangelogError(code: .kafka, reason: "\(changelog): reading its offsets failed: \(error)")
        }
    }

    /// Empties the file and folds the retained changelog into it, from the
    /// last complete image when one is known (the records before it are
    /// superseded by it), else from the log's start.
    func rebuild(low: Int64, high: Int64, role: StoreReplication.Role = .active, fromStart: Bool = false) async throws -> Outcome {
        let starts = fromStart ? [] : try await imageStarts(low: low, high: high)
        return try await rebuild(low: low, high: high, role: role, trying: starts[...])
    }

    /// A rebuild from the first of `starts` whose image proves whole, else
    /// from the next, else from the log's start.
    private func rebuild(low: Int64, high: Int64, role: StoreReplication.Role, trying starts: ArraySlice<ImageStart>) async throws -> Outcome {
        let start = starts.first
        try store.beginRestore()
        var fold = ChangelogFold(changelog: changelog, store: storeName, group: group)
        try await read(from: start?.offset ?? low, to: high, into: &fold, file: store)
        if let start, !start.proven(by: fold) {
            logger.warning("No complete image where the changelog's records placed one: reading from the next known start", metadata: [
                "changelog": "\(changelog)", "image": "\(start.offset)",
            ])
            return try await rebuild(low: low, high: high, role: role, trying: starts.dropFirst())
        }
        // Records before `low` fell off the log: what they held is known
        // only if a complete image came after them.
        if low > 0, fold.records > 0, !fold.sawCompleteImage {
            throw ChangelogError(
                code: .incomplete,
                reason: "\(changelog): records before offset \(low) fell off the log and no complete image of \(storeName) follows them; the state cannot be rebuilt"
            )
        }
        let next = role == .replica ? fold.resumeOffset ?? low : high
        try store.finishRestore(outputs: Array(fold.outputs.values), progress: fold.storeProgress, role: role, changelogNext: next)
        return Outcome(
            kind: .full, records: fold.records, bytes: fold.bytes, changelogHasStore: fold.progress != nil,
            needsImage: fold.needsImage, image: fold.knownImage, imageBytes: fold.lastCompleteImageBytes,
            bytesAfterImage: fold.bytesAfterLastImage
        )
    }

    /// Where a rebuild may start: an image read whole among the log's last
    /// records, the image the last progress record names (its writer saw
    /// every record of it delivered), and the start a log ending in an image
    /// gives by its end's count; best first.
    func imageStarts(low: Int64, high: Int64) async throws -> [ImageStart] {
        var scan = ChangelogFold(changelog: changelog, store: storeName, group: group)
        try await read(from: max(low, high - Self.tailWindow), to: high, into: &scan, file: nil)
        var starts: [ImageStart] = []
        if let whole = scan.lastCompleteImage { starts.append(ImageStart(offset: whole, kind: .readWhole)) }
        // An image's own progress record names the image before it, so a
        // log ending in an image would start a restore one image early:
        // its end's count says where it starts (exact when no other store
        // of this partition number wrote between; the rebuild checks it).
        if let end = scan.lastImageEnd, end.records >= 0, end.records < end.offset {
            starts.append(ImageStart(offset: end.offset - end.records - 1, kind: .counted))
        }
        if let named = scan.progress?.image { starts.append(ImageStart(offset: named, kind: .named)) }
        var seen: Set<Int64> = []
        return starts.filter { $0.offset >= low && $0.offset < high && seen.insert($0.offset).inserted }
            .sorted { $0.offset > $1.offset }
    }

    /// A place a rebuild may start, and why it is believed to start an image.
    struct ImageStart: Sendable, Hashable {
        enum Kind: Sendable, Hashable {
            /// Read whole (its count matched) by the scan of the log's end.
            case readWhole
            /// Derived from an image end's count: proven only if the image
            /// read from there is whole.
            case counted
            /// Named by a progress record: its writer saw it delivered.
            case named
        }

        var offset: Int64
        var kind: Kind

        /// Whether the fold read from here proves an image starts here.
        func proven(by fold: ChangelogFold) -> Bool {
            switch kind {
            // Any image read whole from here supersedes what came before.
            case .counted: fold.lastCompleteImage != nil
            case .readWhole, .named: fold.sawCompleteImage
            }
        }
    }

    /// How many of the log's last records are searched for a progress record.
    static let tailWindow: Int64 = 512

    /// Folds the records after a replica's position into it. A copy that
    /// stays a replica resumes after the last whole commit it folded.
    func foldTail(from start: Int64, to high: Int64, role: StoreReplication.Role = .active) async throws -> Outcome {
        var fold = ChangelogFold(changelog: changelog, store: storeName, group: group, pendingOutputs: try store.pendingOutputs(limit: .max))
        try await read(from: start, to: high, into: &fold, file: store)
        let progress = try fold.storeProgress ?? store.progress()
        let next = role == .replica ? fold.resumeOffset ?? start : high
        try store.finishRestore(outputs: Array(fold.outputs.values), progress: progress, role: role, changelogNext: next)
        return Outcome(
            kind: .tail, records: fold.records, bytes: fold.bytes, changelogHasStore: true, needsImage: fold.needsImage,
            image: fold.knownImage, imageBytes: fold.lastCompleteImageBytes, bytesAfterImage: fold.bytesAfterLastImage
        )
    }

    private func read(from start: Int64, to end: Int64, into fold: inout ChangelogFold, file: PartitionStore?) async throws {
        let shared = FoldBox(fold)
        do {
            try await reader.read(changelog, from: start, until: end, idleTimeout: idleTimeout) { batch in
                try shared.state.withLock { try $0.fold(batch, into: file) }
            }
            try shared.state.withLock { try $0.flush(into: file) }
        } catch let error as KafkaError where error.code == .shutDown {
            // The read was cancelled (a revocation): not a failure to retry.
            throw CancellationError()
        } catch let error as KafkaError {
            throw ChangelogError(code: .kafka, reason: "\(changelog): reading from offset \(start) to \(end) failed: \(error)")
        }
        fold = shared.state.withLock { $0 }
    }
}

/// The fold, shared with the reading thread (which alone uses it while the
/// read runs).
private final class FoldBox: Sendable {
    let state: Mutex<ChangelogFold>

    init(_ fold: ChangelogFold) {
        state = Mutex(fold)
    }
}
