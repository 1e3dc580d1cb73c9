import Foundation
import Shoal

extension ReplayResult {
    /// The outputs (of `topic`, or all) decoded from JSON as `type`, in order.
    public func outputs<Output: Decodable>(_ type: Output.Type, topic: String? = nil) throws -> [Output] {
        try outputs.filter { topic == nil || $0.topic == topic }.map {
            try JSONDecoder().decode(Output.self, from: Data($0.value))
        }
    }

    /// An entity's state after each of its events, decoded as `type`
    /// (replay with `transitions: true`, the default).
    public func states<State: Decodable>(of entity: EntityID, as type: State.Type) throws -> [State] {
        try transitions.filter { $0.entity == entity }.map {
            try JSONDecoder().decode(State.self, from: Data($0.state))
        }
    }

    /// The outputs keyed by their record key, each key's in order.
    public var outputsByKey: [String: [Output]] {
        Dictionary(grouping: outputs) { $0.key ?? "" }
    }
}

extension Replay {
    /// Replays JSON Lines text (one event a line, as in a journal file).
    public func run(jsonLines text: String, transitions: Bool = true) async throws -> ReplayResult {
        try await run(ReplayJournal.jsonLines(text, source: "inline journal"), transitions: transitions)
    }
}
