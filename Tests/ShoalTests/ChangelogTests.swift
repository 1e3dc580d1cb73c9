import Foundation
@testable import Shoal
@testable import ShoalApp
import Testing
@testable import CounterApp

@Suite("Changelog records")
struct ChangelogEntryTests {
    let store = Array("counter-events".utf8)

    static let entries: [ChangelogEntry] = [
        .snapshot(Snapshot(entity: "Counter", key: "key-1", version: 2, offset: 41, state: Array(#"{"count":3}"#.utf8), firings: 1)),
        .removed(entity: "Counter", key: "key-2"),
        .timers(StoredTimers(entity: "Visit", key: "k", timers: [
            EntityTimer(name: "close", clock: .eventTime, due: EventTime(milliseconds: 1_000)),
            EntityTimer(name: "ping", clock: .processingTime, due: EventTime(milliseconds: -5)),
        ])),
        .timers(StoredTimers(entity: "Visit", key: "k", timers: [])),
        .output(OutboxEntry(sourceOffset: 7, position: 1, topic: "totals", key: [1, 2], value: nil, headers: [9], timestamp: 123)),
        .output(OutboxEntry(sourceOffset: 8, position: 0, topic: "totals", key: nil, value: Array("v".utf8), headers: nil, timestamp: nil)),
        .delivered(sourceOffset: 7, position: 1),
        .progress(ChangelogProgress(nextOffset: 42, maxEventTime: EventTime(milliseconds: 99), group: "g", writer: 5)),
        .progress(ChangelogProgress(nextOffset: 0, maxEventTime: nil, group: "g", writer: -1)),
        .progress(ChangelogProgress(nextOffset: 9, maxEventTime: nil, group: "g", writer: 2, image: 1_234)),
        .imageStart(ChangelogImage(group: "g", id: 3)),
        .imageEnd(ChangelogImage(group: "g", id: 3)),
        .imageEnd(ChangelogImage(group: "g", id: 3, records: 41)),
        // An erase's marker names no key.
        .erased,
        // A shard fed by several topics: per-topic offsets ride along.
        .snapshot(Snapshot(entity: "Basket", key: "b", version: 1, offset: 12, state: [1], sources: ["basket-items": 4, "basket-orders": 7])),
        .progress(ChangelogProgress(
            nextOffset: 13, maxEventTime: nil, group: "g", writer: 2, image: 5, topicOffsets: ["basket-items": 5, "basket-orders": 8]
        )),
        // A record forwarded to its key's partition names the partition.
        .output(OutboxEntry(
            sourceOffset: 9, position: 0, topic: "g-payments-repartition", key: nil, value: [7],
            headers: OutboxEntry.encode(headers: [KafkaHeader(key: "shoal-origin", string: "payments/3/9")]), timestamp: 5, partition: 6
        )),
        .snapshot(Snapshot(entity: "Account", key: "a", version: 1, offset: 3, state: [1], sources: ["payments@3": 9])),
    ]

    /// Values of a one-topic shard stay in the first format, which earlier
    /// Shoals read; only per-topic offsets and explicit partitions need the
    /// second (the last four entries).
    @Test func onlyValuesWithPerTopicOffsetsUseTheSecondFormat() {
        // Keys: format 1 but for the erase marker's, which earlier Shoals refuse as newer.
        #expect(Self.entries.map { $0.encoded(store: "s").key[0] } == Self.entries.map { $0 == .erased ? 2 : 1 })
        let formats = Self.entries.compactMap { $0.encoded(store: "s").value?.first }
        #expect(formats == Array(repeating: 1, count: formats.count - 4) + [2, 2, 2, 2])
    }

    func decode(_ key: [UInt8], _ value: [UInt8]?, store: [UInt8]) throws(ChangelogEntry.DecodingFailure) -> ChangelogEntry? {
        let result = key.withUnsafeBytes { key in
            Result { () throws(ChangelogEntry.DecodingFailure) -> ChangelogEntry? in
                guard let value else { return try ChangelogEntry.decode(key: key, value: nil, store: store) }
                return try value.withUnsafeBytes { value in
                    Result { () throws(ChangelogEntry.DecodingFailure) in try ChangelogEntry.decode(key: key, value: value, store: store) }
                }.get()
            }
        }
        return try result.get()
    }

    @Test(arguments: entries)
    func everyKindRoundTrips(entry: ChangelogEntry) throws {
        let (key, value) = entry.encoded(store: "counter-events")
        #expect(try decode(key, value, store: store) == entry)
        #expect(try decode(key, value, store: Array("visits".utf8)) == nil, "another store's record is skipped")
    }

    @Test func aProgressRecordWithoutItsImageFieldStillDecodes() throws {
        let progress = ChangelogProgress(nextOffset: 9, maxEventTime: nil, group: "g", writer: 2, image: 77)
        let (key, value) = ChangelogEntry.progress(progress).encoded(store: "counter-events")
        // An earlier Shoal's record ends before the image field (1 + 8 bytes).
        var earlier = progress
        earlier.image = nil
        #expect(try decode(key, Array(value!.dropLast(9)), store: store) == .progress(earlier))
    }

    @Test func truncatedAndNewerRecordsAreRefusedByName() throws {
        let (key, value) = ChangelogEntryTests.entries[0].encoded(store: "counter-events")
        #expect(throws: ChangelogEntry.DecodingFailure.self) { try decode(key, Array(value!.prefix(5)), store: store) }
        #expect(throws: ChangelogEntry.DecodingFailure.malformed("a record without a key")) {
            try [UInt8]().withUnsafeBytes { value in _ = try ChangelogEntry.decode(key: nil, value: value, store: store) }
        }
        var newerKey = key
        newerKey[0] = ChangelogEntry.keyFormat + 1
        #expect(throws: ChangelogEntry.DecodingFailure.newerFormat("key", ChangelogEntry.keyFormat + 1, supported: ChangelogEntry.keyFormat)) {
            try decode(newerKey, value, store: store)
        }
        var newerValue = value!
        newerValue[0] = ChangelogEntry.format + 1
        #expect(throws: ChangelogEntry.DecodingFailure.newerFormat("value", ChangelogEntry.format + 1, supported: ChangelogEntry.format)) {
            try decode(key, newerValue, store: store)
        }
        #expect(throws: ChangelogEntry.DecodingFailure.self) { try decode(Array("garbage".utf8), Array("x".utf8), store: store) }
    }

    /// Key format 2 is the erase marker's alone; a marker written in format
    /// 1 (before the marker's key changed) still decodes.
    @Test func onlyTheEraseMarkerHasAKeyOfTheSecondFormat() throws {
        var (key, value) = ChangelogEntryTests.entries[0].encoded(store: "counter-events")
        key[0] = 2
        #expect(throws: ChangelogEntry.DecodingFailure.self) { try decode(key, value, store: store) }
        var (marker, markerValue) = ChangelogEntry.erased.encoded(store: "counter-events")
        #expect(marker[0] == 2)
        marker[0] = 1
        #expect(try decode(marker, markerValue, store: store) == .erased)
    }
}

@Suite("State beyond one machine", .serialized)
struct ChangelogNodeTests {
    let workload = CounterWorkload(keys: 200, perKey: 10)

    func counterNode(_ broker: EmbeddedBroker, group: String, directory: URL, changelog: String? = nil) -> ShoalNode {
        var configuration = ShoalNodeConfiguration(
            brokers: [broker.bootstrapServers], group: group, dataDirectory: directory.path, sessionTimeout: .seconds(6)
        )
        configuration.changelog.topic = changelog
        let node = ShoalNode(configuration: configuration, topology: CounterApp.topology, logger: testLogger)
        return node
    }

    /// Runs a node until `outputs` totals are on the output topic.
    func process(
        _ node: ShoalNode, _ broker: EmbeddedBroker, _ messages: ArraySlice<(key: String, value: String)>, outputs: Int
    ) async throws {
        try await withRunningNode(node) {
            try await produce(broker, topic: "counter-events", Array(messages))
            _ = try await readTopic(broker, "counter-totals", count: outputs)
            #expect(await eventually { node.ownedPartitions.count == 8 })
        }
    }

    /// Every key's persisted state in `directory`, by key.
    func states(in directory: URL) throws -> [String: [String: Any]] {
        var result: [String: [String: Any]] = [:]
        for path in try StateFiles(directory: directory.path).paths {
            let store = try PartitionStore(readingAt: path)
            defer { store.close() }
            for snapshot in try store.snapshots() {
                result[snapshot.key] = try JSONSerialization.jsonObject(with: Data(snapshot.state)) as? [String: Any]
            }
        }
        return result
    }

    /// A machine is lost (its data directory gone); a node on an empty
    /// directory restores every partition from the changelog and goes on:
    /// every key's state is the fold of all its events, each counted once.
    @Test(.timeLimit(.minutes(3)))
    func aNodeOnAnEmptyDirectoryRestoresEveryKeyFromTheChangelog() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let group = uniqueName("restore")
        try broker.createChangelog(group: group, partitions: 8)
        let messages = workload.messages
        let half = messages.count / 2
        let first = try temporaryDirectory()
        try await process(counterNode(broker, group: group, directory: first), broker, messages[..<half], outputs: half)
        try FileManager.default.removeItem(at: first)

        let second = try temporaryDirectory()
        try await process(counterNode(broker, group: group, directory: second), broker, messages[half...], outputs: messages.count)
        let states = try states(in: second)
        #expect(states.count == workload.keys, "every key was restored")
        let wrong = workload.expected.filter { key, expected in
            states[key]?["count"] as? Int != expected.count || states[key]?["sum"] as? Int != expected.sum
        }
        #expect(wrong.isEmpty, "every key's state is the fold of its events: \(wrong.count) differ")
    }

    /// A node whose changelog is empty while the group committed offsets
    /// (state lost) refuses to process onto empty state, partition by
    /// partition, naming the partition and the changelog.
    @Test(.timeLimit(.minutes(3)))
    func lostStateIsNeverProcessedFromTheCommittedOffset() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let group = uniqueName("lost")
        try broker.createChangelog(group: group, partitions: 8)
        try broker.createTopic("\(group)-other-state", partitions: 8)
        let messages = workload.messages
        try await process(counterNode(broker, group: group, directory: try temporaryDirectory()), broker, messages[...], outputs: messages.count)

        let node = counterNode(broker, group: group, directory: try temporaryDirectory(), changelog: "\(group)-other-state")
        try await withRunningNode(node) {
            #expect(await eventually { node.unrestorablePartitions.count == 8 })
            #expect(node.ownedPartitions.isEmpty, "no shard runs on empty state")
            let reason = node.unrestorablePartitions[TopicPartition("counter-events", 3)] ?? ""
            #expect(reason.contains("stateMissing") && reason.contains("counter-events-3") && reason.contains("-other-state"), "\(reason)")
            #expect(!node.health.isHealthy)
        }
    }

    /// Bad changelog records leave their partition paused with an error
    /// naming the changelog topic and partition; other partitions go on.
    @Test(.timeLimit(.minutes(3)), arguments: ["garbage", "foreign", "newer"])
    func aBadChangelogRecordStopsOnlyItsPartition(kind: String) async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let group = uniqueName("bad")
        try broker.createChangelog(group: group, partitions: 8)
        let changelog = ShoalNodeConfiguration.changelogTopic(group: group)
        let (key, value): ([UInt8], [UInt8]?) = switch kind {
        case "garbage": ([ChangelogEntry.keyFormat] + Array("garbage record".utf8), Array("x".utf8))
        case "foreign": ChangelogEntry.progress(ChangelogProgress(nextOffset: 5, maxEventTime: nil, group: "someone-else", writer: 1))
            .encoded(store: "counter-events")
        default: { () -> ([UInt8], [UInt8]?) in
            var (key, value) = ChangelogEntry.removed(entity: "Counter", key: "k").encoded(store: "counter-events")
            key[0] = ChangelogEntry.keyFormat + 1
            return (key, value)
        }()
        }
        try await withProducer(broker) { producer in
            try await producer.send(KafkaProducerMessage(topic: changelog, partition: 2, key: key, value: value))
        }
        let node = counterNode(broker, group: group, directory: try temporaryDirectory())
        try await withRunningNode(node) {
            #expect(await eventually { node.unrestorablePartitions.count == 1 && node.ownedPartitions.count == 7 })
            let reason = node.unrestorablePartitions[TopicPartition("counter-events", 2)] ?? ""
            let code = ["garbage": "undecodable", "foreign": "foreignApplication", "newer": "newerFormat"][kind]!
            #expect(reason.contains(code) && reason.contains("\(changelog)-2 offset 0"), "\(reason)")
        }
    }

    /// A changelog topic whose partition count differs from the input's is
    /// refused when the node starts, naming both.
    @Test(.timeLimit(.minutes(2)))
    func aChangelogWithOtherPartitionCountsIsRefused() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let group = uniqueName("count")
        try broker.createChangelog(group: group, partitions: 3)
        let node = counterNode(broker, group: group, directory: try temporaryDirectory())
        await #expect(throws: ChangelogError(
            code: .topic,
            reason: "the changelog topic \(group)-state has 3 partitions, the input topics 8 (counter-events: 8): they must match"
        )) { try await node.run() }
        let missing = counterNode(broker, group: uniqueName("missing"), directory: try temporaryDirectory())
        await #expect { try await missing.run() } throws: { error in
            "\(error)".contains("does not exist") && "\(error)".contains("APP topics --group")
        }
    }
}
