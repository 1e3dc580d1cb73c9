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
public struct Topology: Sendable {
    /// The routes by the topic they read.
    private(set) var routes: [String: Route] = [:]

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
        routes[route.topic] = route
    }

    /// Adds `other`'s routes (each replacing this one's of the same topic).
    mutating func add(contentsOf other: Topology) {
        routes.merge(other.routes) { _, new in new }
    }

    /// The route of the entity type named `name`, if any.
    func route(toEntity name: String) -> Route? {
        routes.values.first { $0.entity.name == name }
    }

    /// The routes, checked: at least one, and one topic per entity type.
    /// - Throws: ``ShoalError`` with code `configuration`, naming the topics.
    func validated() throws -> [String: Route] {
        guard !routes.isEmpty else {
            throw ShoalError(code: .configuration, reason: "the topology has no routes: declare at least one with route(topic:to:)")
        }
        let topicsByEntity = Dictionary(grouping: routes.values, by: \.entity.name)
        for (entity, entityRoutes) in topicsByEntity where entityRoutes.count > 1 {
            let topics = entityRoutes.map(\.topic).sorted().joined(separator: ", ")
            throw ShoalError(
                code: .configuration,
                reason: "entity type \(entity) is routed from several topics (\(topics)); one topic per entity type is supported"
            )
        }
        return routes
    }
}
