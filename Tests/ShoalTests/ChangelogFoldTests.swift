import Foundation
@testable import Shoal
import ShoalKafka
import Testing
import TestSupport

@Suite("Changelog fold")
struct ChangelogFoldTests {
    let store = "counter-events"

    func records(_ entries: [ChangelogEntry]) -> [KafkaRecord] {
        entries.enumerated().map { index, entry in
            let (key, value) = entry.encoded(store: store)
            return KafkaRecord(topic: "g-state", partition: 0, offset: Int64(index), key: KafkaBytes(key), value: value.map(KafkaBytes.init))
        }
    }

    func snapshot(_ key: String, _ count: Int, at offset: Int64) -> ChangelogEntry {
        .snapshot(Snapshot(entity: "Counter", key: key, version: 1, offset: offset, state: Array(#"{"count":\#(count)}"#.utf8)))
    }

    func progress(_ next: Int64) -> ChangelogEntry {
        .progress(ChangelogProgress(nextOffset: next, maxEventTime: nil, group: "g", writer: 1))
    }

    func output(_ offset: Int64) -> ChangelogEntry {
        .output(OutboxEntry(sourceOffset: offset, position: 0, topic: "totals", key: nil, value: Array("\(offset)".utf8), headers: nil))
    }

    @Test func aChangelogEndingInsideACommitRestoresTheCommitBefore() throws {
        let file = try PartitionStore(path: try temporaryDirectory().appendingPathComponent("counter-events-0.sqlite").path)
        defer { file.close() }
        var fold = ChangelogFold(changelog: TopicPartition("g-state", 0), store: store, group: "g")
        // A whole commit, then the first records of the next (its writer died sending it).
        try fold.fold(records([output(0), snapshot("a", 1, at: 0), progress(1)]), into: file)
        try fold.fold(records([output(1), .timers(StoredTimers(entity: "Counter", key: "a", timers: [
            EntityTimer(name: "t", clock: .processingTime, due: EventTime(milliseconds: 5)),
        ])), snapshot("a", 2, at: 1)]), into: file)
        try fold.flush(into: file)

        #expect(fold.progress?.nextOffset == 1)
        #expect(fold.outputs.keys.map(\.sourceOffset) == [0], "the cut commit's output is made again when its record is")
        #expect(try file.snapshot(entity: "Counter", key: "a")?.state == Array(#"{"count":1}"#.utf8))
        #expect(try file.timers().isEmpty)
        #expect(fold.endsInsideCommit, "the restore asks for a full image, so that no later fold takes the cut records for the next commit's")
    }

    @Test func anImageTakesEffectAsItIsReadAndSupersedesACutCommit() throws {
        let file = try PartitionStore(path: try temporaryDirectory().appendingPathComponent("counter-events-0.sqlite").path)
        defer { file.close() }
        var fold = ChangelogFold(changelog: TopicPartition("g-state", 0), store: store, group: "g")
        let image = ChangelogImage(group: "g", id: 9)
        try fold.fold(records([snapshot("a", 5, at: 3), .imageStart(image), snapshot("b", 7, at: 2)]), into: file)
        try fold.flush(into: file)
        #expect(try file.snapshot(entity: "Counter", key: "b") != nil, "an image's snapshot takes effect before its end")
        #expect(try file.snapshot(entity: "Counter", key: "a") == nil, "the cut commit before the image is dropped")
        var end = image
        end.records = 2
        try fold.fold(records([progress(4), .imageEnd(end), .delivered(sourceOffset: 0, position: 0), progress(5)]), into: file)
        #expect(fold.sawCompleteImage)
        #expect(fold.progress?.nextOffset == 5)
        #expect(!fold.endsInsideCommit)
        #expect(fold.knownImage == 1, "the image started at the second record of the first batch")
    }

    /// An image whose end counts more records than were read between its
    /// start and end (one was lost in delivery) may not start a restore.
    @Test(arguments: [nil, 3] as [Int64?])
    func anImageWithAGapOrNoCountIsNotCountedComplete(count: Int64?) throws {
        var fold = ChangelogFold(changelog: TopicPartition("g-state", 0), store: store, group: "g")
        var end = ChangelogImage(group: "g", id: 9)
        end.records = count
        try fold.fold(records([.imageStart(ChangelogImage(group: "g", id: 9)), snapshot("b", 7, at: 2), progress(4), .imageEnd(end)]), into: nil)
        #expect(fold.knownImage == nil)
    }

    @Test func changesOutOfKeyOrderWithRemovalsAreWrittenAsTheLastOneSaid() throws {
        let file = try PartitionStore(path: try temporaryDirectory().appendingPathComponent("counter-events-0.sqlite").path)
        defer { file.close() }
        var fold = ChangelogFold(changelog: TopicPartition("g-state", 0), store: store, group: "g")
        try fold.fold(records([
            snapshot("c", 1, at: 0), snapshot("a", 1, at: 1), snapshot("b", 1, at: 2), progress(3),
            .removed(entity: "Counter", key: "a"), snapshot("c", 2, at: 3), progress(4),
            snapshot("a", 3, at: 4), .removed(entity: "Counter", key: "b"), progress(5),
        ]), into: file)
        try fold.flush(into: file)
        let states = try file.snapshots().map { "\($0.key)=\(String(decoding: $0.state, as: UTF8.self))" }
        #expect(states == [#"a={"count":3}"#, #"c={"count":2}"#])
    }
}
