import Distributed
import Foundation
import ShoalTesting
import Testing

// The example of docs/time-windows-and-patterns.md, compiled and run as a
// test. Keep the lines between the markers identical to the article's code
// block (`theTimeArticleShowsTheCompiledExample` checks it).

// example:begin
/// A temperature reading; `at` is when the sensor took it.
struct SensorReading: Codable, Sendable {
    var sensor: String
    var celsius: Double
    var at: EventTime
}

/// Per-minute averages, an alert when three readings above 80 °C come
/// within two minutes, and an alert when a sensor is silent for five.
distributed actor Sensor: EventHandling {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable {
        var minutes = EventWindows<WindowStatistics<Double>>(.tumbling(size: .seconds(60)))
        var overheating = CountWithin<Double>(threshold: 3, within: .seconds(120))
        var lastSeen = EventTime.distantPast
    }

    /// A sensor gone for a day is forgotten.
    static var stateTimeToLive: Duration? { .seconds(24 * 3_600) }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ reading: SensorReading, in context: EntityContext) throws {
        state.minutes.add(reading.celsius, at: reading.at, watermark: context.watermark)
        context.scheduleClosing(of: state.minutes, timer: "minute")
        if reading.celsius > 80, state.overheating.add(reading.celsius, at: reading.at) != nil {
            try context.emit(topic: "sensor-alerts", key: context.key, value: "overheating")
        }
        state.overheating.expire(at: context.watermark)
        // The latest reading moves the deadline (a late one does not pull it back).
        state.lastSeen = max(state.lastSeen, reading.at)
        context.setTimer("silence", at: state.lastSeen + .seconds(300))
    }

    func timerFired(_ timer: EntityTimer, in context: EntityContext) throws {
        if timer.name == "silence" {
            try context.emit(topic: "sensor-alerts", key: context.key, value: "silent")
            return
        }
        for minute in state.minutes.close(at: context.watermark) {
            let average = minute.aggregate.sum / Double(minute.aggregate.count)
            try context.emit(topic: "sensor-minutes", key: context.key, value: average)
        }
        context.scheduleClosing(of: state.minutes, timer: "minute")
    }
}

struct Sensors: ShoalApplication {
    static let topics: [EmbeddedBroker.Topic] = [
        .init(name: "readings", partitions: 8), .init(name: "sensor-minutes", partitions: 8),
        .init(name: "sensor-alerts", partitions: 8),
    ]

    static let topology = Topology { topology in
        topology.route(
            topic: "readings", to: Sensor.self, key: .field(\SensorReading.sensor),
            eventTime: .field(\SensorReading.at, outOfOrderness: .seconds(10), allowedLateness: .seconds(30), late: .deadLetter)
        )
    }
}

@Test func sensorsAverageEachMinuteAndNoticeOverheatingAndSilence() async throws {
    func reading(_ sensor: String, _ celsius: Double, second: Int64, offset: Int64) throws -> ReplayEvent {
        let value = SensorReading(sensor: sensor, celsius: celsius, at: EventTime(milliseconds: second * 1_000))
        return try ReplayEvent(topic: "readings", offset: offset, key: sensor, json: value)
    }
    let result = try await Replay(Sensors.self).run([
        try reading("s1", 20, second: 0, offset: 0),
        try reading("s1", 22, second: 30, offset: 1),
        try reading("s1", 85, second: 70, offset: 2),
        try reading("s1", 95, second: 100, offset: 3),
        try reading("s1", 90, second: 80, offset: 4),  // out of order, within 10 s
        try reading("s2", 19, second: 500, offset: 5),  // moves the watermark to 490 s
    ])
    #expect(try result.outputs(Double.self, topic: "sensor-minutes") == [21, 90])
    #expect(try result.outputs(String.self, topic: "sensor-alerts") == ["overheating", "silent"])
    #expect(result.lateEvents.isEmpty)
}
// example:end

@Test func theTimeArticleShowsTheCompiledExample() throws {
    try expectArticleShowsExample(of: #filePath, article: "docs/time-windows-and-patterns.md")
}
