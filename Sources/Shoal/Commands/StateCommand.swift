import ArgumentParser
import Foundation

/// `APP state --data DIR [--entity TYPE] [--key K]`: the persisted states,
/// one JSON object per line, sorted by entity type and key. Reads the
/// partition files read-only, so it is safe while nodes run.
struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Print persisted entity states as sorted JSON lines (safe while nodes run)."
    )

    @Option(help: "The nodes' data directory.")
    var data: String

    @Option(help: "Only this entity type.")
    var entity: String?

    @Option(help: "Only this key.")
    var key: String?

    func run() throws {
        let files = try StateFiles(directory: data).paths
        var lines: [(entity: String, key: String, line: String)] = []
        for path in files {
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
        let state: Any
        do {
            state = try CanonicalJSON.object(snapshot.state)
        } catch {
            throw StoreError(
                code: .undecodableSnapshot,
                reason: "\(file): the state of \(snapshot.entity) \(snapshot.key) is not JSON: \(error)"
            )
        }
        let object: [String: Any] = [
            "entity": snapshot.entity, "key": snapshot.key, "version": snapshot.version,
            "offset": snapshot.offset, "partition": PartitionStore.partition(ofFile: file)?.description ?? ((file as NSString).lastPathComponent as NSString).deletingPathExtension, "state": state,
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
