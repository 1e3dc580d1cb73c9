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

    public var added: [OutputChange] = []
    public var removed: [OutputChange] = []
    public var changed: [OutputChange] = []
    /// Entities whose final state differs (nil: absent on that side).
    public var states: [EntityID: (recorded: [UInt8]?, replayed: [UInt8]?)] = [:]
    /// Per key, the offset of its first event whose outputs differ.
    public var firstDivergence: [EntityID: Int64] = [:]

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty && states.isEmpty }

    /// Compares `replayed` with `recorded`.
    public init(recorded: RecordedPartition, replayed: ReplayResult) {
        let old = Dictionary(recorded.outputs.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(replayed.outputs.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for id in Set(old.keys).union(new.keys).sorted(by: Self.byOffset) {
            let change = OutputChange(id: id, recorded: old[id], replayed: new[id])
            switch (old[id], new[id]) {
            case (nil, _?): added.append(change)
            case (_?, nil): removed.append(change)
            case let (before?, after?) where before != after: changed.append(change)
            default: continue
            }
            if let offset = (old[id] ?? new[id])?.sourceOffset, let entity = recorded.entities[offset] {
                firstDivergence[entity] = min(firstDivergence[entity] ?? offset, offset)
            }
        }
        for entity in Set(recorded.states.keys).union(replayed.states.keys) {
            let before = recorded.states[entity]
            let after = replayed.states[entity]
            if before != after { states[entity] = (before, after) }
        }
    }

    private static func byOffset(_ left: String, _ right: String) -> Bool {
        let a = left.split(separator: "/").suffix(2).compactMap { Int64($0) }
        let b = right.split(separator: "/").suffix(2).compactMap { Int64($0) }
        return a.lexicographicallyPrecedes(b)
    }

    public static func == (left: ReplayDiff, right: ReplayDiff) -> Bool {
        left.added == right.added && left.removed == right.removed && left.changed == right.changed
            && left.firstDivergence == right.firstDivergence
            && left.states.mapValues { [$0.recorded, $0.replayed] } == right.states.mapValues { [$0.recorded, $0.replayed] }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(added)
        hasher.combine(removed)
        hasher.combine(changed)
    }
}
