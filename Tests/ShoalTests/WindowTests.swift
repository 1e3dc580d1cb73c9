import Distributed
import Foundation
import PropertyBased
import ShoalTesting
import Testing

private struct Reading: Codable, Sendable {
    var key: String
    var at: EventTime
    var value: Int
}

/// What a closed window emits.
private struct WindowResult: Codable, Sendable, Hashable, Comparable {
    var key: String
    var start: Int64
    var end: Int64
    var count: Int
    var sum: Int

    static func < (left: WindowResult, right: WindowResult) -> Bool {
        (left.key, left.start, left.end) < (right.key, right.start, right.end)
    }
}

private typealias SumWindows = EventWindows<WindowStatistics<Int>>

/// Sums readings per window and emits each window when it closes.
private protocol WindowedSum: Entity where State == SumWindows {}

extension WindowedSum {
    func add(_ reading: Reading, in context: EntityContext) {
        state.add(reading.value, at: reading.at, watermark: context.watermark)
        context.scheduleClosing(of: state, timer: "close")
    }

    func timerFired(_ timer: EntityTimer, in context: EntityContext) throws {
        for closed in state.close(at: context.watermark) {
            try context.emit(topic: "windows", key: context.key, value: WindowResult(
                key: context.key, start: closed.window.start.milliseconds, end: closed.window.end.milliseconds,
                count: closed.aggregate.count, sum: closed.aggregate.sum
            ))
        }
        context.scheduleClosing(of: state, timer: "close")
    }
}

private let lateness = Duration.seconds(2)
private let latenessMilliseconds: Int64 = 2_000

private distributed actor TumblingSum: WindowedSum {
    typealias ActorSystem = ShoalActorSystem
    var state = SumWindows(.tumbling(size: .seconds(10)), allowedLateness: lateness)
    init(actorSystem: ShoalActorSystem) { self.actorSystem = actorSystem }
}

private distributed actor HoppingSum: WindowedSum {
    typealias ActorSystem = ShoalActorSystem
    var state = SumWindows(.hopping(size: .seconds(10), advance: .seconds(4)), allowedLateness: lateness)
    init(actorSystem: ShoalActorSystem) { self.actorSystem = actorSystem }
}

private distributed actor SessionSum: WindowedSum {
    typealias ActorSystem = ShoalActorSystem
    var state = SumWindows(.session(gap: .seconds(4)), allowedLateness: lateness)
    init(actorSystem: ShoalActorSystem) { self.actorSystem = actorSystem }
}

private let outOfOrderness = Duration.seconds(3)
private let outOfOrdernessMilliseconds: Int64 = 3_000

private func replay<E: WindowedSum>(_ type: E.Type, _ readings: [Reading]) async throws -> ReplayResult {
    let replay = try Replay { topology in
        topology.route(
            topic: "readings", to: E.self, key: .field(\Reading.key), eventTime: .field(\Reading.at, outOfOrderness: outOfOrderness)
        ) { entity, reading, context in
            entity.add(reading, in: context)
        }
    }
    let events = try readings.enumerated().map { index, reading in
        try ReplayEvent(topic: "readings", offset: Int64(index), key: reading.key, json: reading)
    }
    return try await replay.run(events)
}

/// Readings for three keys on a clock that moves forward, each up to
/// `disorder` behind it (so out of order by up to that much); times are
/// often whole seconds, so that readings fall on window bounds and exactly
/// a session gap apart.
private func randomReadings(seed: Int, disorder: Int64) -> [Reading] {
    var random = SeededRandom(seed: UInt64(bitPattern: Int64(seed)))
    var clock: Int64 = 1_000_000
    return (0..<(20 + Int(random.next(upTo: 60)))).map { _ in
        let whole = random.next(upTo: 2) == 0
        clock += whole ? 1_000 * Int64(random.next(upTo: 4)) : Int64(random.next(upTo: 3_000))
        let behind = Int64(random.next(upTo: UInt64(disorder) + 1))
        let at = clock - (whole ? behind / 1_000 * 1_000 : behind)
        return Reading(key: "k\(random.next(upTo: 3))", at: EventTime(milliseconds: at), value: Int(random.next(upTo: 100)))
    }
}

/// The brute-force reference for aligned windows: a reading counts in each
/// window it falls in that had not closed when it arrived (window end plus
/// lateness above the watermark before it); windows emit once the final
/// watermark passes end plus lateness.
private func alignedReference(_ readings: [Reading], size: Int64, advance: Int64) -> (emitted: [WindowResult], open: [WindowResult]) {
    var windows: [WindowResult] = []
    var maxSeen: Int64?
    for reading in readings {
        let watermark = maxSeen.map { $0 - outOfOrdernessMilliseconds } ?? .min
        let t = reading.at.milliseconds
        var start = t - ((t % advance) + advance) % advance
        while start > t - size {
            if start + size + latenessMilliseconds > watermark {
                if let index = windows.firstIndex(where: { $0.key == reading.key && $0.start == start }) {
                    windows[index].count += 1
                    windows[index].sum += reading.value
                } else {
                    windows.append(WindowResult(key: reading.key, start: start, end: start + size, count: 1, sum: reading.value))
                }
            }
            start -= advance
        }
        maxSeen = max(maxSeen ?? t, t)
    }
    let final = (maxSeen ?? 0) - outOfOrdernessMilliseconds
    let emitted = windows.filter { $0.end + latenessMilliseconds <= final }
    return (emitted.sorted(), windows.filter { $0.end + latenessMilliseconds > final }.sorted())
}

/// The reference for sessions when readings are never later than the
/// out-of-orderness: per key, sorted readings less than the gap apart.
private func sessionReference(_ readings: [Reading], gap: Int64) -> (emitted: [WindowResult], open: [WindowResult]) {
    var sessions: [WindowResult] = []
    for (key, ofKey) in Dictionary(grouping: readings, by: \.key) {
        var current: WindowResult?
        for reading in ofKey.sorted(by: { $0.at < $1.at }) {
            let t = reading.at.milliseconds
            if var session = current, t < session.end {
                session.end = t + gap
                session.count += 1
                session.sum += reading.value
                current = session
            } else {
                if let session = current { sessions.append(session) }
                current = WindowResult(key: key, start: t, end: t + gap, count: 1, sum: reading.value)
            }
        }
        if let session = current { sessions.append(session) }
    }
    let final = (readings.map(\.at.milliseconds).max() ?? 0) - outOfOrdernessMilliseconds
    return (
        sessions.filter { $0.end + latenessMilliseconds <= final }.sorted(),
        sessions.filter { $0.end + latenessMilliseconds > final }.sorted()
    )
}

private func emitted(_ result: ReplayResult) throws -> [WindowResult] {
    try result.outputs.map { try JSONDecoder().decode(WindowResult.self, from: Data($0.value)) }
}

/// The windows still open at the end, from the final states.
private func stillOpen(_ result: ReplayResult) throws -> [WindowResult] {
    try result.states.flatMap { id, bytes in
        try JSONDecoder().decode(SumWindows.self, from: Data(bytes)).open.map {
            WindowResult(key: id.key, start: $0.window.start.milliseconds, end: $0.window.end.milliseconds, count: $0.aggregate.count, sum: $0.aggregate.sum)
        }
    }.sorted()
}

struct WindowTests {
    @Test func tumblingWindowsMatchTheBruteForceReference() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...Int.max)) { seed in
            // Out of order by up to four times the bound: some readings come too late.
            let readings = randomReadings(seed: seed, disorder: 4 * outOfOrdernessMilliseconds)
            let result = try await replay(TumblingSum.self, readings)
            let reference = alignedReference(readings, size: 10_000, advance: 10_000)
            #expect(try emitted(result).sorted() == reference.emitted)
            #expect(try emitted(result).count == Set(try emitted(result)).count, "each window emits once")
            #expect(try stillOpen(result) == reference.open)
        }
    }

    @Test func hoppingWindowsMatchTheBruteForceReference() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...Int.max)) { seed in
            let readings = randomReadings(seed: seed, disorder: 4 * outOfOrdernessMilliseconds)
            let result = try await replay(HoppingSum.self, readings)
            let reference = alignedReference(readings, size: 10_000, advance: 4_000)
            #expect(try emitted(result).sorted() == reference.emitted)
            #expect(try stillOpen(result) == reference.open)
        }
    }

    @Test func sessionWindowsMatchTheBruteForceReference() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...Int.max)) { seed in
            let readings = randomReadings(seed: seed, disorder: outOfOrdernessMilliseconds)
            let result = try await replay(SessionSum.self, readings)
            let reference = sessionReference(readings, gap: 4_000)
            #expect(try emitted(result).sorted() == reference.emitted)
            #expect(try stillOpen(result) == reference.open)
        }
    }

    @Test func aWindowEmitsWhenTheWatermarkPassesItsEndPlusLateness() async throws {
        // Window [0, 10 s) of k0 closes at watermark 12 s: reading at 15 s
        // (watermark 12 s) closes it; the reading at 9 s arriving after that
        // is refused as late.
        let readings = [
            Reading(key: "k0", at: EventTime(milliseconds: 1_000), value: 5),
            Reading(key: "k1", at: EventTime(milliseconds: 14_999), value: 1),
            Reading(key: "k1", at: EventTime(milliseconds: 15_000), value: 1),
            Reading(key: "k0", at: EventTime(milliseconds: 16_000), value: 7),
            Reading(key: "k0", at: EventTime(milliseconds: 9_000), value: 100),
        ]
        let result = try await replay(TumblingSum.self, readings)
        #expect(try emitted(result) == [WindowResult(key: "k0", start: 0, end: 10_000, count: 1, sum: 5)])
        #expect(try stillOpen(result).filter { $0.key == "k0" } == [WindowResult(key: "k0", start: 10_000, end: 20_000, count: 1, sum: 7)])
    }
}
