import Foundation
@testable import Shoal
import Testing

@Suite("Co-partitioned topics")
struct CoPartitioningTests {
    let grouping = CoPartitioning(groups: ["clicks": ["clicks", "carts", "orders"], "payments": ["payments"]])

    @Test func theFirstTopicLeadsAndTheOthersFollowItsPartitions() {
        #expect(grouping.subscribed == ["clicks", "payments"])
        #expect(grouping.followers == ["clicks": ["carts", "orders"]])
        #expect(grouping.shard(of: TopicPartition("orders", 3)) == TopicPartition("clicks", 3))
        #expect(grouping.shard(of: TopicPartition("payments", 3)) == TopicPartition("payments", 3))
        #expect(grouping.inputs(of: TopicPartition("clicks", 2)) == ["clicks", "carts", "orders"].map { TopicPartition($0, 2) })
        #expect(grouping.isShared("clicks") && !grouping.isShared("payments"))
    }

    @Test func aTopologyGroupsAnEntityTypesTopicsInDeclarationOrder() {
        let topology = Topology { topology in
            for topic in ["orders", "clicks"] {
                topology.route(topic: topic, to: Probe.self, key: KeySource<[String: Int]>.recordKey) { _, _, _ in }
            }
        }
        #expect(topology.coPartitioning.groups == ["orders": ["orders", "clicks"]])
        #expect(topology.route(toEntity: "Probe")?.topic == "orders", "calls resolve keys by the lead's partitioning")
    }

    @Test func differentPartitionCountsAreRefusedByName() throws {
        try grouping.check(partitionCounts: ["clicks": 8, "carts": 8, "orders": 8, "payments": 3])
        let error = try #require(throws: ShoalError.self) {
            try grouping.check(partitionCounts: ["clicks": 8, "carts": 4, "orders": 8])
        }
        #expect(error.code == .configuration)
        #expect(error.reason.contains("carts (4 partitions)") && error.reason.contains("clicks (8 partitions)"))
    }

    func record(_ topic: String, _ offset: Int64) -> KafkaRecord {
        KafkaRecord(topic: topic, partition: 0, offset: offset, key: KafkaBytes(Array("k".utf8)), value: KafkaBytes([]))
    }

    /// Records of several topics get consecutive positions after the
    /// file's; each topic's next offset moves only past records a commit covers.
    /// Hand-written events of a shared shard carry each topic's offsets,
    /// which collide: a replay numbers them in order, as a node would; a
    /// journal's positions and one-topic shards keep their offsets.
    @Test func aReplayNumbersTheEventsOfASharedShard() {
        func event(_ topic: String, _ partition: Int32, _ offset: Int64) -> ReplayEvent {
            ReplayEvent(topic: topic, partition: partition, offset: offset, key: "k", value: [])
        }
        let handWritten = [event("clicks", 1, 0), event("carts", 1, 0), event("payments", 1, 7), event("clicks", 1, 1), event("orders", 2, 4)]
        let numbered = Replay.positioned(handWritten, coPartitioning: grouping)
        #expect(numbered.map(\.offset) == [0, 1, 7, 2, 4], "shard clicks-1 numbered, payments and clicks-2 as they were")
        let journal = [event("clicks", 1, 3), event("carts", 1, 4), event("orders", 1, 9)]
        #expect(Replay.positioned(journal, coPartitioning: grouping) == journal)
        // A journaled call holds the position of the record before it: no
        // renumbering for it; among hand-written events, it follows its record.
        var call = event("clicks", 1, 4)
        call.call = [1]
        let withCall = [journal[0], journal[1], call, journal[2]]
        #expect(Replay.positioned(withCall, coPartitioning: grouping) == withCall, "a journal with a call keeps its positions")
        var first = event("clicks", 1, -1)
        first.call = [2]
        let numberedWithCalls = Replay.positioned([first] + handWritten.prefix(2) + [call] + handWritten.dropFirst(2), coPartitioning: grouping)
        #expect(numberedWithCalls.map(\.offset) == [-1, 0, 1, 1, 7, 2, 4], "calls take their record's number: \(numberedWithCalls.map(\.offset))")
    }

    /// A file changes numbering when its shard starts reading a second
    /// topic: a snapshot from a one-topic shard (offset = the lead's) is
    /// read by a shared shard as the lead's per-topic offset, and one from
    /// a shared shard gives a one-topic shard its lead offset, never its
    /// position.
    @Test func snapshotsOfTheOtherNumberingAreReadInThisOnes() {
        let single = Snapshot(entity: "Counter", key: "k", version: 1, offset: 41, state: [])
        let shared = ShardSources.appliedMarks(of: single, offset: 41, shared: true, lead: "counter-events")
        #expect(shared.sources == ["counter-events": 41] && shared.offset == 41)
        var positioned = single
        positioned.offset = 900
        positioned.sources = ["counter-events": 41, "counter-events@3": 7]
        #expect(ShardSources.appliedMarks(of: positioned, offset: 900, shared: true, lead: "counter-events").sources == positioned.sources)
        let alone = ShardSources.appliedMarks(of: positioned, offset: 900, shared: false, lead: "counter-events")
        #expect(alone.offset == 41 && alone.sources.isEmpty)
        positioned.sources = ["counter-events@3": 7]
        #expect(ShardSources.appliedMarks(of: positioned, offset: 900, shared: false, lead: "counter-events").offset == nil, "no lead record applied")
        #expect(ShardSources.appliedMarks(of: nil, offset: nil, shared: true, lead: "counter-events").sources.isEmpty)
    }

    @Test func positionsNumberTheInterleavingAndOffsetsFollowCommits() {
        var sources = ShardSources(next: 100, consumed: ["clicks": 7])
        let placed = [record("clicks", 7), record("orders", 0), record("clicks", 8), record("orders", 1)].map { sources.place($0) }
        #expect(placed.map(\.offset) == [100, 101, 102, 103])
        #expect(placed.map(\.topic) == ["clicks", "orders", "clicks", "orders"])
        #expect(sources.source(of: 102) == SourceOffset(topic: "clicks", offset: 8))
        #expect(sources.original(placed[3]).offset == 1, "a dead letter carries its own offset")
        #expect(sources.offsets(before: nil) == ["clicks": 7], "nothing committed yet")
        #expect(sources.offsets(before: 102) == ["clicks": 8, "orders": 1])
        #expect(sources.source(of: 101) == nil, "forgotten once a commit covers it")
        #expect(sources.offsets(before: 104) == ["clicks": 9, "orders": 2])
        #expect(sources.next == 104)
    }

    /// A file keeps each journal row's own topic and offset, each
    /// snapshot's last offset per topic and each topic's next offset, and
    /// knows the highest position it holds.
    @Test func theFileKeepsSourcesAndTopicOffsets() throws {
        let path = try temporaryDirectory().appendingPathComponent("clicks-0.sqlite").path
        let store = try PartitionStore(path: path)
        defer { store.close() }
        #expect(try store.highestPosition() == nil)
        var commit = StoreCommit(nextOffset: 2)
        commit.journal = [
            JournalEntry(offset: 0, entity: "Shopper", key: "k", event: [], eventTime: nil, source: SourceOffset(topic: "clicks", offset: 7)),
            JournalEntry(offset: 1, entity: "Shopper", key: "k", event: [], eventTime: nil, source: SourceOffset(topic: "orders", offset: 0)),
        ]
        commit.snapshots = [
            Snapshot(entity: "Shopper", key: "k", version: 1, offset: 3, state: [], sources: ["clicks": 7, "orders": 1]),
        ]
        commit.topicOffsets = ["clicks": 8, "orders": 1]
        try store.commit(commit)
        #expect(try store.journal(from: 0).map(\.source) == [SourceOffset(topic: "clicks", offset: 7), SourceOffset(topic: "orders", offset: 0)])
        #expect(try store.snapshots().first?.sources == ["clicks": 7, "orders": 1])
        #expect(try store.progress()?.topicOffsets == ["clicks": 8, "orders": 1])
        #expect(try store.highestPosition() == 3, "a snapshot applied past the committed position counts")
    }
}

private distributed actor Probe: Entity {
    typealias ActorSystem = ShoalActorSystem
    var state = 0
    init(actorSystem: ShoalActorSystem) { self.actorSystem = actorSystem }
}
