import ArgumentParser
import Foundation
import Shoal

extension ReplayCommand {
    /// The erase records of partition files: those `paths` name, each a
    /// file or a directory searched for `.sqlite` files.
    static func registries(_ paths: [String]) throws -> [ErasureRegistry] {
        try paths.flatMap(partitionFiles(at:)).compactMap { file in
            do {
                return try PartitionStore(readingAt: file).erasureRegistry()
            } catch {
                throw ValidationError("--erasures \(file): \(error)")
            }
        }
    }

    private static func partitionFiles(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("--erasures \(path): no such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        return (FileManager.default.subpaths(atPath: path) ?? []).filter { $0.hasSuffix(".sqlite") }.sorted().map { path + "/" + $0 }
    }

    /// `events` without those of erased entities, and the erases that
    /// matched. A journal recorded before an erase still holds the
    /// entity's events: a replay must not bring them back.
    static func withoutErased(
        _ events: [ReplayEvent], _ registries: [ErasureRegistry], entityOf: (ReplayEvent) -> EntityID?
    ) -> (events: [ReplayEvent], skipped: Int, erasures: Set<String>) {
        guard !registries.isEmpty else { return (events, 0, []) }
        var verdicts: [EntityID: String?] = [:]
        var erasures: Set<String> = []
        let kept = events.filter { event in
            guard let id = entityOf(event) else { return true }
            let erasure = verdicts[id] ?? registries.lazy.compactMap { $0.erasure(of: id)?.id }.first
            verdicts[id] = erasure
            guard let erasure else { return true }
            erasures.insert(erasure)
            return false
        }
        return (kept, events.count - kept.count, erasures)
    }
}
