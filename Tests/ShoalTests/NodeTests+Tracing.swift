import Foundation
import InMemoryTracing
@testable import Shoal
import ShoalKafka
import Testing
import Tracing
@testable import CounterApp

extension NodeTests {
    /// A call is two spans, `Reminder call`: the caller's (client), a child
    /// of the caller's context, and the entity's turn (server), a child of
    /// the caller's through the context the call carries; the output the
    /// call emits is sent as a child of the turn. A call that throws ends
    /// both with an error status naming the error's code (not its reason,
    /// which may name the key).
    @Test(.timeLimit(.minutes(3)))
    func aCallsSpansLinkTheCallerTheEntitysTurnAndItsOutputs() async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "reminders", partitions: 1), .init(name: "reminders-fired", partitions: 1)], logger: testLogger)
        let topology = Topology { topology in
            topology.route(topic: "reminders", to: Reminder.self, key: .field(\ReminderEvent.key), eventTime: .field(\ReminderEvent.at)) {
                reminder, event, context in reminder.handle(event, in: context)
            }
        }
        let tracer = InMemoryTracer()
        let node = try tracedNode(broker, group: uniqueName("call-traces"), partitions: 1, topology: topology, tracer: tracer)
        try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 1 })
            try await produce(broker, topic: "reminders", [("r", #"{"key":"r","seq":0,"at":1000}"#)])
            #expect(await eventually { (try? await node.actorSystem.state(of: EntityID(type: "Reminder", key: "r")))?.offset == 0 })
            let reminder = try Reminder.reference(key: "r", in: node.actorSystem)
            try await tracer.withSpan("checkout") { _ in try await reminder.remind("called", at: EventTime(milliseconds: 5_000)) }
            await #expect(throws: ReminderRefused.self) { try await reminder.remindThenFail("x") }
            _ = try await readTopic(broker, "reminders-fired", count: 1)
        }
        let spans = tracer.finishedSpans
        let parent = try #require(spans.first { $0.operationName == "checkout" })
        let calls = spans.filter { $0.operationName == "Reminder call" }
        let caller = try #require(calls.first { $0.kind == .client && $0.parentSpanID == parent.spanID }, "\(spans.map(\.operationName))")
        let turn = try #require(calls.first { $0.kind == .server && $0.parentSpanID == caller.spanID }, "the turn is the caller's child")
        #expect(Set([parent.traceID, caller.traceID, turn.traceID]).count == 1, "one trace")
        #expect(Self.method(of: turn).contains("remind("), "demangled: \(Self.method(of: turn))")
        #expect(turn.attributes["shoal.entity.type"]?.toSpanAttribute() == .string("Reminder"))
        let send = try #require(spans.first { $0.operationName == "reminders-fired send" }, "\(spans.map(\.operationName))")
        #expect(send.parentSpanID == turn.spanID, "the call's output is sent as a child of its turn")
        let failed = try #require(calls.first { $0.kind == .client && Self.method(of: $0).contains("remindThenFail(") })
        #expect(failed.parentSpanID == nil, "made outside any span")
        #expect(failed.status?.code == .error)
        let failedTurn = try #require(calls.first { $0.kind == .server && $0.parentSpanID == failed.spanID })
        #expect(failedTurn.status?.code == .error)
        for span in [failed, failedTurn] {
            #expect(span.attributes["shoal.failure"]?.toSpanAttribute() == .string("handler"), "the error's code: \(span.attributes)")
            #expect(span.status?.message?.contains("\"r\"") != true && span.errors.isEmpty, "no reason, which may name the key")
        }
        #expect(!calls.contains { $0.kind == .client && Self.method(of: $0).contains("remind(") && $0.status != nil }, "the first call succeeded")
    }

    /// The method a call's span names, demangled.
    static func method(of span: FinishedInMemorySpan) -> String {
        guard case .string(let method)? = span.attributes["rpc.method"]?.toSpanAttribute() else { return "" }
        return method
    }

    /// A record's turn whose handler throws ends with an error status that
    /// names the error's type, and records neither the error nor its
    /// description: either may name the key.
    @Test(.timeLimit(.minutes(3)))
    func aFailedTurnsSpanNamesTheErrorsTypeNotItsDescription() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let tracer = InMemoryTracer()
        let node = try tracedNode(broker, group: uniqueName("failed-trace"), partitions: 8, topology: CounterApp.topology, tracer: tracer)
        try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            try await produce(broker, topic: "counter-events", [("secret-key", #"{"key":"secret-key","seq":0,"amount":1,"poison":true}"#)])
            _ = try await readTopic(broker, ShoalNodeConfiguration.defaultDeadLetterTopic, count: 1)
        }
        let turn = try #require(tracer.finishedSpans.first { $0.operationName == "Counter handle" })
        #expect(turn.status?.code == .error)
        #expect(turn.attributes["shoal.failure"]?.toSpanAttribute() == .string("PoisonEvent"), "\(turn.attributes)")
        #expect(turn.errors.isEmpty && turn.status?.message?.contains("secret-key") != true)
    }

    /// A node of `topology` whose spans go to `tracer`, its changelog created.
    func tracedNode(_ broker: EmbeddedBroker, group: String, partitions: Int32, topology: Topology, tracer: InMemoryTracer) throws -> ShoalNode {
        try broker.createChangelog(group: group, partitions: partitions)
        var configuration = ShoalNodeConfiguration(
            brokers: [broker.bootstrapServers], group: group, dataDirectory: try temporaryDirectory().path, sessionTimeout: .seconds(6)
        )
        configuration.tracer = tracer
        return ShoalNode(configuration: configuration, topology: topology, logger: testLogger)
    }
}
