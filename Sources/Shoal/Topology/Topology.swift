/// An application's routes from topics to entity types: built once, then
/// handed to every node that runs the application and to every replay
/// that tests it, so both run the same routes.
///
/// ```swift
/// let topology = Topology { topology in
///     topology.route(topic: "payments", to: Account.self, key: .field(\Payment.account))
/// }
/// let node = ShoalNode(configuration: configuration, topology: topology, logger: logger)
/// let replay = try Replay(topology)
/// ```
///
/// Several topics may feed one entity type when they are co-partitioned
/// (the same partition count, a key in the same partition number of
/// each): one shard per partition number reads them all, in one order its
/// journal records and a replay repeats. The first topic declared for the
/// entity type leads: the shard and its file are named after it, and calls
/// find a key's partition by it.
public struct Topology: Sendable {
    /// The routes by the topic they read.
    private(set) var routes: [String: Route] = [:]
    /// The topics in the order their routes were declared: an entity
    /// type's first topic leads its co-partitioned group (see
    /// ``CoPartitioning``).
    private(set) var declared: [String] = []
    /// How topics' records are placed, where declared (see
    /// ``partitioning(of:by:misplaced:)``).
    var placements: [String: TopicPlacement] = [:]
    /// The topics read as tables (see ``table(_:)``).
    var tables: Set<String> = []

    /// An empty topology; add routes with `route(topic:to:...)`.
    public init() {}

    /// A topology declared by `declare`.
    public init(_ declare: (inout Topology) throws -> Void) rethrows {
        try declare(&self)
    }

    /// The topics the routes read, in name order.
    public var inputTopics: [String] { routes.keys.sorted() }

    /// The entity types the routes lead to.
    public var entityTypes: Set<String> { Set(routes.values.map(\.entity.name)) }

    mutating func add(_ route: Route) {
        if routes[route.topic] == nil { declared.append(route.topic) }
        routes[route.topic] = route
    }

    /// Adds `other`'s routes (each replacing this one's of the same topic).
    mutating func add(contentsOf other: Topology) {
        for topic in other.declared {
            if let route = other.routes[topic] { add(route) }
        }
        placements.merge(other.placements) { _, theirs in theirs }
        tables.formUnion(other.tables)
    }

    /// The route of the entity type named `name` from its leading topic
    /// (the one its keys are partitioned by for calls), if any.
    func route(toEntity name: String) -> Route? {
        declared.lazy.compactMap { routes[$0] }.first { $0.entity.name == name }
    }

    /// Which topics feed one shard: an entity type's topics, its first
    /// declared one leading.
    var coPartitioning: CoPartitioning {
        var groups: [String: [String]] = [:]
        var leads: [String: String] = [:]
        for topic in declared {
            guard let entity = routes[topic]?.entity.name else { continue }
            let lead = leads[entity] ?? topic
            leads[entity] = lead
            groups[lead, default: []].append(topic)
        }
        return CoPartitioning(groups: groups)
    }

    /// The routes, checked: at least one.
    /// - Throws: ``ShoalError`` with code `configuration`.
    func validated() throws -> [String: Route] {
        guard !routes.isEmpty else {
            throw ShoalError(code: .configuration, reason: "the topology has no routes: declare at least one with route(topic:to:)")
        }
        try checkPartitioners()
        if let both = tables.intersection(routes.keys).sorted().first {
            throw ShoalError(code: .configuration, reason: "\(both) is declared both a table and a routed topic: a topic is one or the other")
        }
        return routes
    }
}
