import Foundation
import Logging

/// Deletes the standby copies in a node's directory that no process has
/// held, written or let go of for `delay`: copies the standby plan no
/// longer keeps here. Their state is in the changelog, which restores it
/// if the partition comes back; until then the file would keep what an
/// erase since cannot reach, and its disk space. Kafka Streams' task
/// directories go the same way after `state.cleanup.delay.ms`.
///
/// A file is in use while a shard, a standby copy or a restore holds its
/// lock (``PartitionFileLock``), in this process or another on the same
/// directory: the sweep deletes a file only while holding that lock
/// itself, so an owner that opens it next finds no file and restores.
struct StaleFileSweep: Sendable {
    let directory: String
    let delay: Duration
    let logger: Logger

    /// Deletes the stale files now; returns their paths.
    @discardableResult
    func sweep(now: Date = Date()) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let cutoff = now.addingTimeInterval(-delay.timeInterval)
        return names.filter { $0.hasSuffix(".sqlite") }.sorted().compactMap { name in
            let path = (directory as NSString).appendingPathComponent(name)
            return deleteIfStale(path, untouchedSince: cutoff) ? path : nil
        }
    }

    private func deleteIfStale(_ path: String, untouchedSince cutoff: Date) -> Bool {
        guard PartitionStore.partition(ofFile: path) != nil, Self.untouched(path, since: cutoff, orReleased: true) else { return false }
        let hadLockFile = FileManager.default.fileExists(atPath: path + ".lock")
        guard let lock = try? PartitionFileLock(database: path, timeout: .zero) else { return false }
        lock.stampsRelease = false
        defer { lock.release() }
        // Written, or let go of, just before the lock was free: not stale
        // after all (a lock file this sweep created says nothing).
        guard Self.untouched(path, since: cutoff, orReleased: hadLockFile), Self.wholeInTheChangelog(path) else { return false }
        do {
            // The log first: a log left beside a new, empty file would be read into it.
            for file in [path + "-wal", path + "-shm", path] where FileManager.default.fileExists(atPath: file) {
                try FileManager.default.removeItem(atPath: file)
            }
        } catch {
            logger.warning("Cannot delete a partition file no process uses", metadata: ["file": "\(path)", "error": "\(error)"])
            return false
        }
        logger.notice("Deleted a partition file no process used or wrote", metadata: ["file": "\(path)", "for": "\(delay)"])
        return true
    }

    /// Whether what the file holds is in the changelog too, so that a
    /// restore brings it back: a standby copy (folded from the changelog
    /// alone), or a restore cut short (emptied when it began). Not an
    /// owner's file: its last commit's changelog records may not have been
    /// delivered (a timer's or a call's commit keeps the input offset, so
    /// the file's replicated offset cannot prove it), nor a file that
    /// recorded an erase (the record stays in the file that made it:
    /// `replay --erasures`).
    private static func wholeInTheChangelog(_ path: String) -> Bool {
        guard let store = try? PartitionStore(readingAt: path) else { return false }
        defer { store.close() }
        do {
            guard try store.erasureRegistry() == nil else { return false }
            switch try store.replication().role {
            case .replica?, .restoring?: return true
            case .active?, nil: return false
            }
        } catch {
            return false
        }
    }

    /// Whether neither the file nor its write-ahead log changed since
    /// `cutoff`, nor (`orReleased`) was its lock released since.
    private static func untouched(_ path: String, since cutoff: Date, orReleased: Bool) -> Bool {
        ([path, path + "-wal"] + (orReleased ? [path + ".lock"] : [])).allSatisfy { file in
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: file))?[.modificationDate] as? Date else {
                return !FileManager.default.fileExists(atPath: file)
            }
            return modified < cutoff
        }
    }
}

/// A ``StaleFileSweep`` run at most once per `every`, the first one a
/// whole delay after the node starts: a node back after a long stop finds
/// its old files untouched for longer than the delay, and takes its
/// partitions back (and their files' locks) before the first sweep.
struct ScheduledSweep: Sendable {
    let sweep: StaleFileSweep
    let every: Duration
    private var next: ContinuousClock.Instant

    init(sweep: StaleFileSweep, every: Duration) {
        self.sweep = sweep
        self.every = every
        next = .now + sweep.delay
    }

    mutating func sweepWhenDue() {
        guard ContinuousClock.now >= next else { return }
        sweep.sweep()
        next = ContinuousClock.now + every
    }
}
