import Foundation
import ShoalKafka
import Synchronization

/// The files under `directory` (partition files, their WAL) that hold
/// `text`'s bytes anywhere.
public func filesHolding(_ text: String, in directory: String) -> [String] {
    let needle = Data(text.utf8)
    let files = (FileManager.default.subpaths(atPath: directory) ?? []).map { directory + "/" + $0 }
    return files.filter { path in
        guard let bytes = FileManager.default.contents(atPath: path) else { return false }
        return bytes.range(of: needle) != nil
    }.sorted()
}

/// The key and value bytes of a changelog partition's records from its
/// last image's start on: what a restore reads.
public func changelogFromLastImage(_ broker: EmbeddedBroker, _ changelog: TopicPartition) async throws -> [Data] {
    let reader = try KafkaPartitionReader(client: .init(bootstrapServers: [broker.bootstrapServers]), logger: testLogger)
    let (low, high) = try await reader.watermarks(of: changelog)
    let records = Mutex<[(key: Data, value: Data)]>([])
    try await reader.read(changelog, from: low, until: high) { batch in
        records.withLock { $0 += batch.map { (Data($0.key?.array ?? []), Data($0.value?.array ?? [])) } }
    }
    let all = records.withLock { $0 }
    // An image's first record: key format 1, kind "B".
    let start = all.lastIndex { $0.key.count > 1 && $0.key[$0.key.startIndex + 1] == 0x42 } ?? 0
    return all[start...].map { $0.key + $0.value }
}
