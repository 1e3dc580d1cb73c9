import CRdKafka
import Foundation
import ShoalKafka
import Synchronization
import Testing

/// A listener that records the order of hooks and can hold revocation.
final class RecordingListener: KafkaRebalanceListener {
    let name: String
    let timeline: Timeline
    let revokeDelay: Duration
    let starts: [TopicPartition: KafkaStartOffset]

    init(_ name: String, timeline: Timeline, revokeDelay: Duration = .zero, starts: [TopicPartition: KafkaStartOffset] = [:]) {
        self.name = name
        self.timeline = timeline
        self.revokeDelay = revokeDelay
        self.starts = starts
    }

    func partitionsAssigned(_ partitions: [TopicPartition]) async -> [TopicPartition: KafkaStartOffset] {
        for partition in partitions { timeline.record("\(name) assigned \(partition)") }
        return starts
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) async {
        for partition in partitions { timeline.record("\(name) revoking \(partition)") }
        try? await Task.sleep(for: revokeDelay)
        for partition in partitions { timeline.record("\(name) flushed \(partition)") }
    }
}

@Suite("Consumer group membership")
struct ConsumerGroupTests {
    @Test(.timeLimit(.minutes(3)), arguments: [
        KafkaConsumerConfiguration.AssignmentStrategy.cooperativeSticky, .range,
    ])
    func revokedPartitionIsFlushedBeforeAnotherMemberGetsIt(strategy: KafkaConsumerConfiguration.AssignmentStrategy) async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "handoff", partitions: 4)], logger: testLogger)
        let group = uniqueName("handoff")
        let timeline = Timeline()
        let first = RecordingListener("A", timeline: timeline, revokeDelay: .milliseconds(800))
        try await withConsumer(consumerConfiguration(broker, group: group, topics: ["handoff"], strategy: strategy), listener: first) { a in
            #expect(await eventually { a.assignment.count == 4 })
            let second = RecordingListener("B", timeline: timeline)
            try await withConsumer(consumerConfiguration(broker, group: group, topics: ["handoff"], strategy: strategy), listener: second) { b in
                #expect(await eventually { a.assignment.count + b.assignment.count == 4 && !b.assignment.isEmpty })
                for partition in b.assignment {
                    let flushed = try #require(timeline.index(of: "A flushed \(partition)"))
                    let taken = try #require(timeline.index(of: "B assigned \(partition)"))
                    #expect(flushed < taken, "A flushed \(partition) before B received it")
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(3)), arguments: [
        KafkaConsumerConfiguration.AssignmentStrategy.cooperativeSticky, .range,
    ])
    func pauseHoldsAcrossRebalances(strategy: KafkaConsumerConfiguration.AssignmentStrategy) async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "paused", partitions: 4)], logger: testLogger)
        let group = uniqueName("pause")
        let all = (0..<Int32(4)).map { TopicPartition("paused", $0) }
        let configuration = consumerConfiguration(broker, group: group, topics: ["paused"], strategy: strategy)
        try await withConsumer(configuration) { a in
            #expect(await eventually { a.assignment.count == 4 })
            // B joins and takes some partitions; A pauses all four, including
            // those it does not own now. B leaves and A gets them back.
            let bOwned = try await withConsumer(configuration) { b in
                #expect(await eventually { !b.assignment.isEmpty && a.assignment.count + b.assignment.count == 4 })
                a.pause(all)
                return b.assignment
            }
            #expect(!bOwned.isEmpty)
            #expect(await eventually { a.assignment.count == 4 })
            #expect(a.pausedPartitions == Set(all))
            try await produce(broker, topic: "paused", count: 400)
            let whilePaused = await collect(a, count: 1, timeout: .seconds(3))
            #expect(whilePaused.count == 0, "no records from paused partitions after two rebalances")
            a.resume(all)
            let afterResume = await collect(a, count: 400, timeout: .seconds(30))
            #expect(afterResume.count == 400)
            #expect(Set(afterResume.map(\.topicPartition)).isSuperset(of: bOwned), "B's old partitions resumed too")
        }
    }

    /// A member that commits all the time while others join and leave
    /// (almost) never sends a commit with an old generation: the coordinator
    /// would refuse it with ILLEGAL_GENERATION and librdkafka would give up
    /// the member's whole assignment. Commits wait while librdkafka rejoins
    /// the group. One refusal can still happen: librdkafka 2.0.2 serves a
    /// commit on its own thread later, on the queue where the heartbeat's
    /// answer may start the rejoin first, so a commit that passed the gate
    /// can follow the member's JoinGroup to the coordinator; no check of the
    /// join state closes that window (without the gate, every commit during
    /// the rebalance is refused). Once the group settles, commits go through.
    @Test(.timeLimit(.minutes(3)))
    func commitsDuringRebalancesNeverCarryAnOldGeneration() async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "busy", partitions: 4)], logger: testLogger)
        let configuration = consumerConfiguration(broker, group: uniqueName("busy"), topics: ["busy"])
        try await produce(broker, topic: "busy", count: 40)
        let (events, failures) = try await withConsumer(configuration) { a in
            let events = Task {
                var seen: [KafkaConsumerEvent] = []
                for await event in a.events { seen.append(event) }
                return seen
            }
            #expect(await eventually { a.assignment.count == 4 })
            let committer = Task {
                var failures: [KafkaError] = []
                while !Task.isCancelled {
                    let offsets = Dictionary(uniqueKeysWithValues: a.assignment.map { ($0, Int64(1)) })
                    do throws(KafkaError) { try await a.commit(offsets) } catch { failures.append(error) }
                    try? await Task.sleep(for: .milliseconds(50))
                }
                return failures
            }
            try await withConsumer(configuration) { b in
                #expect(await eventually { !b.assignment.isEmpty && a.assignment.count + b.assignment.count == 4 })
            }
            #expect(await eventually { a.assignment.count == 4 })
            committer.cancel()
            let failures = await committer.value
            // Settled: a commit goes through and is what the group holds.
            let settled = Dictionary(uniqueKeysWithValues: a.assignment.map { ($0, Int64(2)) })
            #expect(await eventually { (try? await a.commit(settled)) != nil })
            #expect(try await a.committedOffsets(Array(settled.keys)) == settled)
            a.triggerShutdown()
            return (await events.value, failures)
        }
        #expect(failures.contains { $0.reason.contains("commit after it") }, "the gate held commits back during the rebalance: \(failures.prefix(2))")
        let illegal = failures.filter { $0.rdKafkaCode == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION.rawValue }
        #expect(illegal.count <= 1, "commits carried an old generation: \(illegal.prefix(2))")
        let lost = events.filter { if case .lost = $0 { true } else { false } }
        if !lost.isEmpty { print("the busy member lost partitions for another reason (heartbeat): \(lost)") }
    }

    /// The revocation hook runs only once the reader is done with the batch
    /// it holds, so a batch of a revoked partition is never handled side by
    /// side with the hand-off (and never reaches the partition's next owner).
    @Test(.timeLimit(.minutes(3)))
    func revocationWaitsForTheBatchTheReaderHolds() async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "held", partitions: 4)], logger: testLogger)
        let configuration = consumerConfiguration(broker, group: uniqueName("held"), topics: ["held"])
        try await produce(broker, topic: "held", count: 400)
        let timeline = Timeline()
        try await withConsumer(configuration, listener: RecordingListener("A", timeline: timeline)) { a in
            #expect(await eventually { a.assignment.count == 4 })
            let reader = Task {
                for await _ in a.records {
                    guard timeline.index(of: "A finished its batch") == nil else { continue }
                    // Hold this batch across B's join and the revocation it brings.
                    _ = await eventually { timeline.index(of: "B joins") != nil }
                    try? await Task.sleep(for: testSessionTimeout + .seconds(2))
                    timeline.record("A finished its batch")
                }
            }
            try await withConsumer(configuration) { b in
                timeline.record("B joins")
                #expect(await eventually { !b.assignment.isEmpty && a.assignment.count + b.assignment.count == 4 })
            }
            a.triggerShutdown()
            await reader.value
        }
        let finished = try #require(timeline.index(of: "A finished its batch"))
        let firstRevocation = try #require(timeline.all.firstIndex { $0.hasPrefix("A revoking") })
        #expect(finished < firstRevocation, "the hook waited for the reader: \(timeline.all.prefix(8))")
    }
}

func produce(_ broker: EmbeddedBroker, topic: String, count: Int, prefix: String = "k") async throws {
    try await withProducer(broker) { producer in
        for index in 0..<count {
            try await producer.enqueue(KafkaProducerMessage(topic: topic, key: "\(prefix)\(index % 50)", value: "\(index)"))
        }
    }
}
