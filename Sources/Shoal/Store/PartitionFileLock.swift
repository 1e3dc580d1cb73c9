import Foundation

/// Exclusive ownership of a partition's database file across processes: an
/// advisory `flock` on a side file `<database>.lock`, released when this is
/// deinitialized or the process dies (even by SIGKILL).
package final class PartitionFileLock {
    let path: String
    private let descriptor: Int32

    /// Takes the lock, retrying until `timeout`: during a rebalance between
    /// two nodes on one machine, the previous owner may still be closing.
    init(database: String, timeout: Duration) throws(StoreError) {
        path = database + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(code: .io, reason: "\(path): cannot open the lock file: \(String(cString: strerror(errno)))")
        }
        let deadline = ContinuousClock.now + timeout
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, ContinuousClock.now < deadline else {
                close(descriptor)
                throw StoreError(
                    code: .locked,
                    reason: "\(database) is held by another process (waited \(timeout)); is another node running with this data directory?"
                )
            }
            usleep(20_000)
        }
        self.descriptor = descriptor
    }

    private var held = true
    /// Whether releasing stamps the side file with the time: when the file
    /// was last in use, which the sweep of stale files reads (an idle
    /// partition's database is not written for long while its owner holds it).
    var stampsRelease = true

    deinit {
        release()
    }

    /// Releases the lock (once).
    func release() {
        guard held else { return }
        held = false
        if stampsRelease { futimens(descriptor, nil) }
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

extension PartitionFileLock {
    /// Whether a process (a node's shard or standby copy) holds the lock of
    /// the file at `database` now. Asks with a shared lock taken and
    /// released at once, so it never keeps a node waiting for long.
    package static func isHeld(database: String) -> Bool {
        let descriptor = open(database + ".lock", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_SH | LOCK_NB) == 0 else { return errno == EWOULDBLOCK }
        flock(descriptor, LOCK_UN)
        return false
    }
}
