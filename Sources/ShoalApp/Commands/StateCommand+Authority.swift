import Shoal
import Foundation

/// One partition file found under a data directory, and what it is.
struct StateFile: Sendable {
    let path: String
    /// `<group>/<topic>-<partition>`: the same name in two directories is
    /// two copies of one partition.
    let name: String
    let role: StoreReplication.Role?
    /// Whether a running node holds the file (its shard or standby copy).
    let held: Bool
    /// The next input offset the file's state reflects.
    let next: Int64?

    /// Owned now: held by a node that processes it.
    var owned: Bool { held && (role == .active || role == nil) }

    init(path: String, directory: String) throws {
        self.path = path
        let group = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
        name = "\(group)/\(((path as NSString).lastPathComponent as NSString).deletingPathExtension)"
        let store = try PartitionStore(readingAt: path)
        defer { store.close() }
        role = try store.replication().role
        next = try store.progress()?.nextOffset
        held = PartitionFileLock.isHeld(database: path)
    }

    /// The copies of each partition that speak for it: the one a node owns
    /// now, else the one whose state reflects the most input (an owned or
    /// handed-off file before a standby copy at the same offset). A file
    /// left half-restored never does.
    static func authoritative(_ files: [StateFile]) -> Set<String> {
        var chosen: Set<String> = []
        for copies in Dictionary(grouping: files.filter { $0.role != .restoring }, by: \.name).values {
            let best = copies.max { a, b in
                (a.owned ? 1 : 0, a.next ?? -1, a.role == .replica ? 0 : 1) < (b.owned ? 1 : 0, b.next ?? -1, b.role == .replica ? 0 : 1)
            }
            if let best { chosen.insert(best.path) }
        }
        return chosen
    }

    /// `{"authoritative":…,"file":…,"held":…,"next":…,"partition":…,"role":…}`.
    func line(authoritative: Bool) throws -> String {
        let object: [String: Any] = [
            "file": path, "partition": name, "role": (owned ? "owned" : role?.rawValue) ?? "unknown", "held": held,
            "next": next.map { $0 as Any } ?? NSNull(), "authoritative": authoritative,
        ]
        return String(decoding: try CanonicalJSON.data(object), as: UTF8.self)
    }
}
