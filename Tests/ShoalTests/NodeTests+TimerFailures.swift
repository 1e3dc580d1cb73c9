import Distributed
import Foundation
import Shoal
import ShoalKafka
import Testing

/// A ping; `alarm` sets a timer (`fatal` makes it throw an error no retry fixes).
private struct Ping: Codable, Sendable {
    var key: String
    var at: EventTime
    var alarm: EventTime?
    var fatal: Bool?
}

private struct Broken: Error {}
private struct Refused: NonRetryableError {}

/// Sets the timers its pings ask for; every firing throws.
private distributed actor Fragile: Entity {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable { var pings = 0 }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func ping(_ ping: Ping, in context: EntityContext) {
        state.pings += 1
        if let alarm = ping.alarm { context.setTimer(ping.fatal == true ? "fatal" : "flaky", at: alarm) }
    }

    func timerFired(_ timer: EntityTimer, in context: EntityContext) throws {
        state.pings = -1  // undone: each attempt starts from the last saved state
        if timer.name == "fatal" { throw Refused() }
        throw Broken()
    }

    distributed func pings() -> Int { state.pings }
}

extension NodeTests {
    /// A timer that throws is tried again like a handler, then dead-lettered
    /// as a record naming the entity and the timer; one that throws a
    /// `NonRetryableError` is dead-lettered at once. The entity keeps the
    /// state it had before the firing.
    @Test(.timeLimit(.minutes(3)))
    func timersThatThrowAreRetriedThenDeadLettered() async throws {
        let broker = try EmbeddedBroker(
            topics: [.init(name: "pings", partitions: 1), .init(name: "shoal-dead-letters", partitions: 1)], logger: testLogger
        )
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("timer-dlq"))
        let group = uniqueName("timer-dlq")
        try broker.createChangelog(group: group, partitions: 1)
        let configuration = ShoalNodeConfiguration(
            brokers: [broker.bootstrapServers], group: group, dataDirectory: directory.path, sessionTimeout: .seconds(6)
        )
        let node = ShoalNode(configuration: configuration, logger: testLogger)
        try node.route { topology in topology.route(topic: "pings", to: Fragile.self, key: .field(\Ping.key), eventTime: .field(\Ping.at)) { fragile, ping, context in
            fragile.ping(ping, in: context)
        } }
        func ping(_ key: String, second: Int64, alarm: Int64? = nil, fatal: Bool? = nil) throws -> (key: String, value: String) {
            let value = Ping(key: key, at: .init(milliseconds: second * 1_000), alarm: alarm.map { .init(milliseconds: $0 * 1_000) }, fatal: fatal)
            return (key, String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
        }
        let letters = try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 1 })
            try await produce(broker, topic: "pings", [
                try ping("flaky", second: 1, alarm: 5), try ping("fatal", second: 2, alarm: 6, fatal: true), try ping("clock", second: 10),
            ])
            let letters = try await readTopic(broker, "shoal-dead-letters", count: 2)
            let flaky = try Fragile.reference(key: "flaky", in: node.actorSystem)
            #expect(try await flaky.pings() == 1, "the failed firings changed nothing")
            return letters
        }
        let reasons = Dictionary(letters.map { ($0.key?.string ?? "", $0.headers.string(for: "shoal-dlq-reason") ?? "") }) { first, _ in first }
        #expect(reasons["flaky"]?.contains("timer flaky of Fragile/flaky threw 3 times") == true, "\(reasons)")
        #expect(reasons["fatal"]?.contains("timer fatal of Fragile/fatal threw once") == true, "\(reasons)")
        #expect(Set(letters.compactMap { $0.headers.string(for: "shoal-dlq-timer") }) == ["flaky", "fatal"])
        let flakyLetter = try #require(letters.first { $0.key?.string == "flaky" })
        let body = try JSONSerialization.jsonObject(with: Data(flakyLetter.value?.array ?? [])) as? [String: Any]
        #expect(body?["entity"] as? String == "Fragile" && (body?["timer"] as? [String: Any])?["name"] as? String == "flaky")
    }
}
