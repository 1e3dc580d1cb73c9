/// How a replay differs from what was recorded: outputs added, removed or
/// changed (matched by their deterministic id), final states that differ,
/// and the first divergent event of each key.
public struct ReplayDiff: Sendable, Hashable {
    /// An output present on one side only, or with different contents.
    public struct OutputChange: Sendable, Hashable {
        public var id: String
        public var recorded: ReplayResult.Output?
        public var replayed: ReplayResult.Output?
    }

    /// An entity's final state on both sides (nil: absent on that side).
    public struct StateChange: Sendable, Hashable {
        public var recorded: [UInt8]?
        public var replayed: [UInt8]?
    }

    public var added: [OutputChange] = []
    public var removed: [OutputChange] = []
    public var changed: [OutputChange] = []
    /// Entities whose final state differs.
    public var states: [EntityID: StateChange] = [:]
    /// Per key, the offset of its first event whose outputs differ.
    public var firstDivergence: [EntityID: Int64] = [:]

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty && states.isEmpty }

    /// Compares `replayed` with `recorded`.
    public init(recorded: RecordedPartition, replayed: ReplayResult) {
        let old = Dictionary(recorded.outputs.map { ($0.source, $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(replayed.outputs.map { ($0.source, $0) }, uniquingKeysWith: { first, _ in first })
        for source in Set(old.keys).union(new.keys).sorted() {
            let change = OutputChange(id: source.description, recorded: old[source], replayed: new[source])
            switch (old[source], new[source]) {
            case (nil, _?): added.append(change)
            case (_?, nil): removed.append(change)
            case let (before?, after?) where before != after: changed.append(change)
            default: continue
            }
            if let entity = recorded.entities[source.offset] {
                firstDivergence[entity] = min(firstDivergence[entity] ?? source.offset, source.offset)
            }
        }
        for entity in Set(recorded.states.keys).union(replayed.states.keys) {
            let change = StateChange(recorded: recorded.states[entity], replayed: replayed.states[entity])
            if change.recorded != change.replayed { states[entity] = change }
        }
    }
}
