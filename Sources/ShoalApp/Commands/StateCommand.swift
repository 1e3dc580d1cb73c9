import Shoal
import ArgumentParser
import Foundation

/// `APP state --data DIR [--data DIR...] [--entity TYPE] [--key K] [--files]`:
/// the persisted states, one JSON object per line, sorted by entity type and
/// key, from the authoritative copy of each partition. Reads the
/// partition files read-only, so it is safe while nodes run.
struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Print persisted entity states as sorted JSON lines (safe while nodes run)."
    )

    @Option(help: "A node's data directory; repeat it for several machines' directories.")
    var data: [String]

    @Option(help: "Only this entity type.")
    var entity: String?

    @Option(help: "Only this key.")
    var key: String?

    @Flag(help: "List the partition files instead: each one's role (owned, active, replica, restoring), input offset, and whether it is the authoritative copy.")
    var files = false

    /// Prints the states of the authoritative copy of each partition only:
    /// a directory that holds standby copies, or files of partitions that
    /// moved away, never shows two versions of one key.
    func run() throws {
        var found: [StateFile] = []
        for directory in data {
            found += try StateFiles(directory: directory).paths.compactMap { path in
                do {
                    return try StateFile(path: path, directory: directory)
                } catch where !FileManager.default.fileExists(atPath: path) {
                    return nil  // deleted meanwhile by a node, as stale
                }
            }
        }
        let authoritative = StateFile.authoritative(found)
        if files {
            for file in found.sorted(by: { ($0.name, $0.path) < ($1.name, $1.path) }) {
                print(try file.line(authoritative: authoritative.contains(file.path)))
            }
            return
        }
        var lines: [(entity: String, key: String, line: String)] = []
        for path in found.map(\.path) where authoritative.contains(path) {
            let store = try PartitionStore(readingAt: path)
            defer { store.close() }
            for snapshot in try store.snapshots(entity: entity, key: key) {
                lines.append((snapshot.entity, snapshot.key, try Self.line(snapshot, file: path)))
            }
        }
        for entry in lines.sorted(by: { ($0.entity, $0.key) < ($1.entity, $1.key) }) {
            print(entry.line)
        }
    }

    /// `{"entity":…,"key":…,"offset":…,"partition":…,"state":{…},"version":…}`, keys sorted.
    static func line(_ snapshot: Snapshot, file: String) throws -> String {
        let partition = PartitionStore.partition(ofFile: file)?.description
            ?? ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        return try line(
            entity: snapshot.entity, key: snapshot.key, version: snapshot.version, offset: snapshot.offset, partition: partition,
            state: snapshot.state, source: file
        )
    }

    /// A live state in the same format (`APP get`, `GET /entities/TYPE/KEY`).
    static func line(_ live: LiveEntityState) throws -> String {
        try line(
            entity: live.entity, key: live.key, version: live.version, offset: live.offset, partition: live.partition,
            state: live.state, source: "the live state"
        )
    }

    private static func line(
        entity: String, key: String, version: Int64, offset: Int64, partition: String, state encoded: [UInt8], source: String
    ) throws -> String {
        let state: Any
        do {
            state = try CanonicalJSON.object(encoded)
        } catch {
            throw StoreError(code: .undecodableSnapshot, reason: "\(source): the state of \(entity) \(key) is not JSON: \(error)")
        }
        let object: [String: Any] = [
            "entity": entity, "key": key, "version": version, "offset": offset, "partition": partition, "state": state,
        ]
        return String(decoding: try CanonicalJSON.data(object), as: UTF8.self)
    }
}

/// The partition files under a data directory: `DIR/<group>/<topic>-<partition>.sqlite`.
struct StateFiles {
    let paths: [String]

    init(directory: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--data \(directory): no such directory")
        }
        let groups = try FileManager.default.contentsOfDirectory(atPath: directory)
        var paths: [String] = []
        for group in groups {
            let folder = (directory as NSString).appendingPathComponent(group)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            paths += names.filter { $0.hasSuffix(".sqlite") }.map { (folder as NSString).appendingPathComponent($0) }
        }
        self.paths = paths.sorted()
    }
}
