import Foundation
@testable import Shoal
import ShoalKafka
import Testing
import TestSupport

/// A restore against changelog records written to the embedded broker.
@Suite("Changelog restore")
struct ChangelogRestoreTests {
    let store = "counter-events"

    func snapshot(_ key: String, _ count: Int) -> ChangelogEntry {
        .snapshot(Snapshot(entity: "Counter", key: key, version: 1, offset: 0, state: Array(#"{"count":\#(count)}"#.utf8)))
    }

    func progress(_ next: Int64, image: Int64? = nil) -> ChangelogEntry {
        .progress(ChangelogProgress(nextOffset: next, maxEventTime: nil, group: "g", writer: 1, image: image))
    }

    /// Writes `entries` to partition 0 of a new changelog topic and
    /// rebuilds an empty file from it.
    func rebuild(_ entries: [ChangelogEntry]) async throws -> (ChangelogRestore.Outcome, PartitionStore) {
        let broker = try EmbeddedBroker(topics: [.init(name: "g-state", partitions: 1)], logger: testLogger)
        let producer = try KafkaProducer(configuration: .init(client: .init(bootstrapServers: [broker.bootstrapServers])), logger: testLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            for entry in entries {
                let (key, value) = entry.encoded(store: store)
                try await producer.send(KafkaProducerMessage(topic: "g-state", partition: 0, key: key, value: value))
            }
            producer.triggerShutdown()
        }
        let file = try PartitionStore(path: try temporaryDirectory().appendingPathComponent("counter-events-0.sqlite").path)
        let restore = ChangelogRestore(
            reader: try KafkaPartitionReader(client: .init(bootstrapServers: [broker.bootstrapServers]), logger: testLogger),
            changelog: TopicPartition("g-state", 0), store: file, storeName: store, group: "g", logger: testLogger
        )
        return (try await restore.run(), file)
    }

    /// Deltas, then a full image (offsets 3–7), then deltas whose progress
    /// names the image: the restore reads from the image on.
    var imaged: [ChangelogEntry] {
        [
            snapshot("a", 1), snapshot("gone", 1), progress(1),
            .imageStart(ChangelogImage(group: "g", id: 9)), snapshot("a", 1), snapshot("b", 1), progress(2), .imageEnd(ChangelogImage(group: "g", id: 9)),
            snapshot("b", 2), progress(3, image: 3),
        ]
    }

    @Test(.timeLimit(.minutes(1)))
    func aRestoreStartsAtTheImageTheLastProgressNames() async throws {
        let (outcome, file) = try await rebuild(imaged)
        defer { file.close() }
        #expect(outcome.kind == .full)
        #expect(outcome.records == 7, "the records before the image are not read")
        #expect(outcome.image == 3)
        #expect(try file.snapshots().map(\.key).sorted() == ["a", "b"], "the image supersedes what came before it")
        #expect(try file.snapshot(entity: "Counter", key: "b")?.state == Array(#"{"count":2}"#.utf8))
        #expect(try file.progress()?.nextOffset == 3)
    }

    @Test(.timeLimit(.minutes(1)))
    func aProgressNamingNoCompleteImageFallsBackToTheWholeLog() async throws {
        var entries = imaged
        entries[entries.count - 1] = progress(3, image: 5)
        let (outcome, file) = try await rebuild(entries)
        defer { file.close() }
        #expect(outcome.records == 10)
        #expect(try file.snapshot(entity: "Counter", key: "b")?.state == Array(#"{"count":2}"#.utf8))
        #expect(try file.progress()?.nextOffset == 3)
    }

    /// A log that ends in an image: its own progress record names no image,
    /// but its end counts its records, which tells where it starts.
    @Test(.timeLimit(.minutes(1)))
    func aLogEndingInAnImageRestoresFromThatImage() async throws {
        var end = ChangelogImage(group: "g", id: 9)
        end.records = 3
        let entries: [ChangelogEntry] = [
            snapshot("a", 1), snapshot("gone", 1), progress(1),
            .imageStart(ChangelogImage(group: "g", id: 9)), snapshot("a", 1), snapshot("b", 1), progress(2), .imageEnd(end),
        ]
        let (outcome, file) = try await rebuild(entries)
        defer { file.close() }
        #expect(outcome.records == 5, "only the image is read")
        #expect(outcome.image == 3)
        #expect(try file.snapshots().map(\.key).sorted() == ["a", "b"])
        #expect(try file.progress()?.nextOffset == 2)
    }

    /// The log ends in an image that lost records in delivery (its end
    /// counts 4, 2 arrived): the start its count gives is not trusted, and
    /// the rebuild reads from the whole image the last progress names.
    @Test(.timeLimit(.minutes(1)))
    func anImageWithAGapIsNeverWhereARebuildStarts() async throws {
        var whole = ChangelogImage(group: "g", id: 8)
        whole.records = 3
        var gapped = ChangelogImage(group: "g", id: 9)
        gapped.records = 4
        let entries: [ChangelogEntry] = [
            snapshot("a", 1), progress(1),
            .imageStart(ChangelogImage(group: "g", id: 8)), snapshot("a", 1), snapshot("k", 1), progress(1), .imageEnd(whole),
            snapshot("z", 1), progress(2, image: 2),
            .imageStart(ChangelogImage(group: "g", id: 9)), snapshot("a", 1), progress(2, image: 2), .imageEnd(gapped),
        ]
        let (outcome, file) = try await rebuild(entries)
        defer { file.close() }
        #expect(try file.snapshots().map(\.key).sorted() == ["a", "k", "z"], "no key is lost to the gap")
        #expect(outcome.image == 2)
        #expect(try file.progress()?.nextOffset == 2)
    }
}
