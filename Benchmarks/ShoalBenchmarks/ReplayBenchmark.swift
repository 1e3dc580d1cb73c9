import ArgumentParser
import Distributed
import Foundation
import Shoal

/// Replay rate of a simple handler (a counter per key), through the same
/// dispatch path a node runs.
struct ReplayBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Events per second replayed into a simple counting handler."
    )

    @Option(help: "Events per round.")
    var events: Int = 1_000_000

    @Option(help: "Distinct keys.")
    var keys: Int = 10_000

    @Option(help: "Rounds.")
    var rounds: Int = 3

    @Option(help: "Lanes (entities replayed concurrently); the processor count by default.")
    var lanes: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Only the final-states replay (for profiling).")
    var finalStatesOnly = false

    @Flag(help: "Replay into the backlog benchmark's handler instead (it reads the clock twice and counts in a shared atomic), for comparison.")
    var backlogHandler = false

    func run() async throws {
        let replay = try Replay { topology in
            if backlogHandler {
                topology.route(topic: "readings", to: Device.self) { device, reading, _ in
                    device.record(reading, busy: .zero)
                }
            } else {
                topology.route(topic: "readings", to: Tally.self) { tally, reading, _ in
                    tally.add(reading)
                }
            }
        }
        let journal = (0..<events).map { index in
            ReplayEvent(topic: "readings", offset: Int64(index), key: "device-\(index % keys)", value: Array(#"{"reading":\#(index % 1000)}"#.utf8))
        }
        var rates: [Double] = []
        var withTransitions: [Double] = []
        for round in 1...rounds {
            var line = "round \(round):"
            for transitions in finalStatesOnly ? [false] : [false, true] {
                let start = ContinuousClock.now
                let result = try await replay.run(journal, transitions: transitions, lanes: lanes)
                let seconds = (ContinuousClock.now - start).seconds
                guard result.applied == events else { throw ValidationError("replayed \(result.applied) of \(events)") }
                if !transitions { rates.append(Double(events) / seconds) } else { withTransitions.append(Double(events) / seconds) }
                line += String(format: " %@ %.0f events/s", transitions ? "with every state" : "final states", Double(events) / seconds)
            }
            print(line)
        }
        guard !finalStatesOnly else { return print(String(format: "median replay rate: %.0f events/s (final states only)", median(rates))) }
        print(String(format: "median replay rate: %.0f events/s (final states only), %.0f events/s (state after every event)",
                     median(rates), median(withTransitions)))
    }
}

/// The simple handler: a count and a sum per key, nothing else.
distributed actor Tally: Entity {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable {
        var count = 0
        var total = 0
    }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func add(_ reading: Reading) {
        state.count += 1
        state.total += reading.reading
    }
}
