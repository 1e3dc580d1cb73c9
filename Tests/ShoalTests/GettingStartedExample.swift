// The example of Sources/Shoal/Shoal.docc/GettingStarted.md, compiled and
// run as a test: the article shows the part between the markers verbatim.
// example:begin
import Logging
import Shoal
import Testing

struct TemperatureReading: Codable, Sendable {
    var thermometer: String
    var celsius: Double
}

/// One actor per thermometer: how many readings it sent, the hottest one,
/// and an alert for each reading above 90 °C.
distributed actor Thermometer: EventHandling {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable {
        var readings = 0
        var hottest = -273.15
    }

    var state = State()

    init(actorSystem: ShoalActorSystem) { self.actorSystem = actorSystem }

    func handle(_ reading: TemperatureReading, in context: EntityContext) throws {
        state.readings += 1
        state.hottest = max(state.hottest, reading.celsius)
        if reading.celsius > 90 {
            try context.emit(topic: "overheating", key: context.key, value: reading)
        }
    }

    /// Any code on the node can ask; the answer comes after the readings before it.
    distributed func hottest() -> Double { state.hottest }
}

/// The routes: built once, run by every node and by every replay.
let thermometers = Topology { topology in
    topology.route(topic: "readings", to: Thermometer.self, key: .field(\TemperatureReading.thermometer))
}

/// A node: joins the group, runs a shard for each partition it is assigned,
/// until its task is cancelled.
func runThermometerNode(brokers: [String], data: String) async throws {
    let configuration = ShoalNodeConfiguration(brokers: brokers, group: "thermometers", dataDirectory: data)
    let node = ShoalNode(configuration: configuration, topology: thermometers, logger: Logger(label: "thermometers"))
    try await node.run()
}

@Test func aThermometerAlertsOnceAboveNinetyDegrees() async throws {
    let replay = try Replay(thermometers)
    let events = try [20.5, 95.0, 40.0].enumerated().map { offset, celsius in
        try ReplayEvent(
            topic: "readings", offset: Int64(offset), key: "t-1", json: TemperatureReading(thermometer: "t-1", celsius: celsius)
        )
    }
    let result = try await replay.run(events)
    #expect(result.outputs.count == 1)
    let state = try #require(try result.state(Thermometer.State.self, of: EntityID(type: "Thermometer", key: "t-1")))
    #expect(state.readings == 3 && state.hottest == 95)
}
// example:end

@Test func theGettingStartedArticleShowsItsExample() throws {
    try expectArticleShowsExample(of: #filePath, article: "Sources/Shoal/Shoal.docc/GettingStarted.md")
}
