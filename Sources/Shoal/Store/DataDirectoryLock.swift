import Foundation

/// A node's claim on its group's data directory, held while it runs: an
/// advisory `flock` on `<directory>/node.lock`, released when this is
/// deinitialized or the process dies.
///
/// Nodes that share a directory (several on one machine) share the lock. A
/// node that keeps standby copies takes it alone: its copies live at the
/// paths where a neighbour's shards keep the same partitions, so between
/// one owner's hand-off and the next owner's open a copy could take a file
/// that must stay the owner's.
final class DataDirectoryLock {
    private let descriptor: Int32

    init(directory: String, exclusive: Bool) throws(StoreError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StoreError(code: .io, reason: "\(directory): cannot create the data directory: \(error)")
        }
        let path = (directory as NSString).appendingPathComponent("node.lock")
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(code: .io, reason: "\(path): cannot open the lock file: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 else {
            close(descriptor)
            throw StoreError(code: .locked, reason: exclusive
                ? "\(directory): another node runs on this data directory; a node that keeps standbys (--standbys) needs a directory of its own"
                : "\(directory): a node that keeps standbys (--standbys) runs on this data directory; give each such node a directory of its own")
        }
        self.descriptor = descriptor
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
