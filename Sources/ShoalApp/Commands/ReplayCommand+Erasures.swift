import ArgumentParser
import Foundation
import Shoal

extension ReplayCommand {
    /// The erase records of partition files: those `paths` name, each a
    /// file (which must open) or a directory searched for `.sqlite` files
    /// (one that does not open, from another version or half written, is
    /// passed over with a warning).
    static func registries(_ paths: [String]) throws -> [ErasureRegistry] {
        var registries: [ErasureRegistry] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("--erasures \(path): no such file or directory")
            }
            guard isDirectory.boolValue else {
                do {
                    if let registry = try PartitionStore(readingAt: path).erasureRegistry() { registries.append(registry) }
                } catch {
                    throw ValidationError("--erasures \(path): \(error)")
                }
                continue
            }
            for file in (FileManager.default.subpaths(atPath: path) ?? []).filter({ $0.hasSuffix(".sqlite") }).sorted() {
                do {
                    if let registry = try PartitionStore(readingAt: path + "/" + file).erasureRegistry() { registries.append(registry) }
                } catch {
                    FileHandle.standardError.write(Data("shoal: --erasures: passing over \(path)/\(file): \(error)\n".utf8))
                }
            }
        }
        return registries
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
