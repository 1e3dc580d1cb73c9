import Foundation
import ShoalKafka
import Testing

@Suite("Consumer group across processes")
struct ConsumerProcessTests {
    struct Consumed: Hashable {
        var partition: Int32
        var offset: Int64
    }

    @Test(.timeLimit(.minutes(4)))
    func twoMembersSplitPartitionsAndTheSurvivorReadsTheRestExactlyOnce() async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "split", partitions: 8)], logger: testLogger)
        let directory = try temporaryDirectory()
        let group = uniqueName("split")
        func probe(_ name: String) throws -> (ChildProcess, URL) {
            let records = directory.appendingPathComponent("\(name).records")
            let child = try ChildProcess(
                executable: "KafkaProbe",
                arguments: ["--brokers", broker.bootstrapServers, "--group", group, "--topic", "split", "--output", records.path],
                directory: directory, name: name
            )
            return (child, records)
        }
        try await produce(broker, topic: "split", count: 4_000, prefix: "first-")
        let (a, aRecords) = try probe("a")
        let (b, bRecords) = try probe("b")
        func consumed() -> [Consumed] {
            (completeLines(of: aRecords) + completeLines(of: bRecords)).map { line in
                let fields = line.split(separator: " ")
                return Consumed(partition: Int32(fields[0])!, offset: Int64(fields[1])!)
            }
        }
        // Both members hold partitions and together read the first half.
        #expect(await eventually(timeout: .seconds(90)) {
            a.output.contains("assigned") && b.output.contains("assigned") && consumed().count >= 4_000
        })
        let aPartitions = Set(completeLines(of: aRecords).map { $0.split(separator: " ")[0] })
        let bPartitions = Set(completeLines(of: bRecords).map { $0.split(separator: " ")[0] })
        #expect(aPartitions.isDisjoint(with: bPartitions), "no partition read by both")
        #expect(aPartitions.count + bPartitions.count == 8)

        // A leaves; it commits what it processed before giving partitions up.
        a.terminate()
        #expect(await a.waitForExit() == 0)
        #expect(a.output.contains("revoked"))
        try await produce(broker, topic: "split", count: 4_000, prefix: "second-")
        #expect(await eventually(timeout: .seconds(90)) { consumed().count >= 8_000 })
        try await Task.sleep(for: .seconds(1))  // room for any duplicate to show up

        let all = consumed()
        #expect(all.count == 8_000, "every record exactly once across both members")
        #expect(Set(all).count == all.count, "no record read twice")
        let bNow = Set(completeLines(of: bRecords).map { Int32($0.split(separator: " ")[0])! })
        #expect(bNow == Set(0..<8), "the survivor reads all 8 partitions")
        b.terminate()
        #expect(await b.waitForExit() == 0)
    }
}
