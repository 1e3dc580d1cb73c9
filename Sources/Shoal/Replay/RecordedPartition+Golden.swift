import Foundation

extension RecordedPartition {
    /// What a golden file (the lines `replay` prints) records for `events`:
    /// its outputs and final states, each JSON value normalized.
    /// - Parameters:
    ///   - url: the golden file.
    ///   - events: the recorded events the golden file's outputs came from.
    ///   - entityOf: the entity an event goes to, for reporting each key's
    ///     first divergent event.
    /// - Throws: ``ShoalError`` (code `journal`) naming the file and line.
    public init(golden url: URL, events: [ReplayEvent], entityOf: (ReplayEvent) -> EntityID?) throws {
        self.events = events
        var entities: [Int64: EntityID] = [:]
        for event in events { entities[event.offset] = entityOf(event) }
        self.entities = entities
        outputs = []
        states = [:]
        let text = try String(contentsOf: url, encoding: .utf8)
        for (index, line) in text.split(separator: "\n").enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw ShoalError(code: .journal, reason: "\(url.path) line \(index + 1): not a JSON object")
            }
            try add(object, at: "\(url.path) line \(index + 1)")
        }
    }

    private mutating func add(_ object: [String: Any], at place: String) throws {
        if let id = object["output"] as? String, let topic = object["topic"] as? String, let value = object["value"] {
            guard let source = OutputID(id) else {
                throw ShoalError(code: .journal, reason: "\(place): output id \(id) is not topic/partition/offset/position")
            }
            outputs.append(.init(source: source, topic: topic, key: object["key"] as? String, value: Array(try CanonicalJSON.data(value))))
        } else if let type = object["entity"] as? String, let key = object["key"] as? String, let state = object["state"] {
            states[EntityID(type: type, key: key)] = Array(try CanonicalJSON.data(state))
        } else if object["failed"] == nil {
            throw ShoalError(code: .journal, reason: "\(place): neither an output, a state nor a failure")
        }
    }
}

extension ReplayResult {
    /// The result with every output and state re-encoded as golden files
    /// hold them, for comparing with one.
    package var normalized: ReplayResult {
        var copy = self
        copy.outputs = outputs.map { output in
            var output = output
            output.value = ReplayReport.normalized(output.value)
            return output
        }
        copy.states = states.mapValues(ReplayReport.normalized)
        return copy
    }
}
