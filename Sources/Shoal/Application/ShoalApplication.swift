import ShoalKafka

/// A Shoal application: its topics and its routes. Its executable runs
/// `ShoalApplicationMain.run(_:)` (module `ShoalApp`), which gives it the whole command group
/// (`node`, `topics`, `broker`, ...).
///
/// ```swift
/// import Shoal
/// import ShoalApp
///
/// struct Fraud: ShoalApplication {
///     static let topics: [EmbeddedBroker.Topic] = [.init(name: "payments", partitions: 8)]
///     static let topology = Topology { topology in
///         topology.route(topic: "payments", to: Account.self, key: .field(\Payment.account))
///     }
/// }
///
/// @main enum Main { static func main() async { await ShoalApplicationMain.run(Fraud.self) } }
/// ```
public protocol ShoalApplication {
    /// Every topic the application reads or writes, with its partition count.
    static var topics: [EmbeddedBroker.Topic] { get }

    /// The application's routes: every node of it runs them, and
    /// ``Replay/init(_:logger:)`` replays them.
    static var topology: Topology { get }

    /// The application's seeded load generator, for `APP produce` and
    /// `APP demo`: `count` records, the same for the same seed. `nil` (the
    /// default) when the application has none.
    static func load(seed: UInt64, count: Int) -> (any Sequence<LoadRecord>)?

    /// The topics whose records `APP demo` prints as they arrive (its
    /// alerts); empty by default.
    static var alertTopics: [String] { get }
}

extension ShoalApplication {
    public static func load(seed: UInt64, count: Int) -> (any Sequence<LoadRecord>)? { nil }
    public static var alertTopics: [String] { [] }
}

extension ShoalApplication {
    /// The changelog topic nodes of `group` replicate state to: named from
    /// the group, with as many partitions as the application's input topics.
    /// A real cluster needs it with `cleanup.policy=compact`; a bound on
    /// compaction's lag (a day) bounds how long an erased entity's older
    /// records stay in the log after its erase's tombstones.
    public static func changelogTopic(group: String) -> EmbeddedBroker.Topic {
        let inputs = Set(topology.inputTopics)
        let partitions = topics.filter { inputs.contains($0.name) }.map(\.partitions).max() ?? 1
        return EmbeddedBroker.Topic(
            name: ShoalNodeConfiguration.changelogTopic(group: group), partitions: partitions,
            configs: ["cleanup.policy": "compact", "max.compaction.lag.ms": "86400000"]
        )
    }

    /// The topic where nodes of `group` announce themselves (for standbys).
    public static func membersTopic(group: String) -> EmbeddedBroker.Topic {
        EmbeddedBroker.Topic(name: ShoalNodeConfiguration.membersTopic(group: group), partitions: 1, configs: ["cleanup.policy": "compact"])
    }

    /// The repartition topics of `group`, one per entity type, each with
    /// the partition count of the entity type's topics.
    public static func repartitionTopics(group: String) -> [EmbeddedBroker.Topic] {
        let counts = Dictionary(topics.map { ($0.name, $0.partitions) }, uniquingKeysWith: { first, _ in first })
        return topology.coPartitioning.subscribed.compactMap { lead in
            counts[lead].map { EmbeddedBroker.Topic(name: ShoalNodeConfiguration.repartitionTopic(group: group, lead: lead), partitions: $0) }
        }
    }

    /// Every topic a deployment of the application needs: its own, the
    /// dead-letter topic and, given the group, the group's changelog,
    /// members and repartition topics.
    public static func deploymentTopics(group: String?) -> [EmbeddedBroker.Topic] {
        var all = topics
        if !all.contains(where: { $0.name == ShoalNodeConfiguration.defaultDeadLetterTopic }) {
            all.append(.init(name: ShoalNodeConfiguration.defaultDeadLetterTopic, partitions: 1))
        }
        if let group { all += [changelogTopic(group: group), membersTopic(group: group)] + repartitionTopics(group: group) }
        return all
    }
}
