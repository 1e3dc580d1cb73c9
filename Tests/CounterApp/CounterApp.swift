import Shoal

/// The tests' application: a counter per key that folds amounts and emits
/// a running total per event.
struct CounterApp: ShoalApplication {
    static let topics: [EmbeddedBroker.Topic] = [
        .init(name: "counter-events", partitions: 8),
        // Twice the input's partitions: outputs carry an id header and a
        // stop can repeat some, and the embedded broker keeps ~5 MiB each.
        .init(name: "counter-totals", partitions: 16),
    ]

    static func configure(_ node: ShoalNode) {
        node.route(topic: "counter-events", to: Counter.self, key: .field(\CounterEvent.key)) { counter, event, context in
            try counter.handle(event, in: context)
        }
    }
}

@main
enum CounterMain {
    static func main() async {
        await ShoalApplicationMain.run(CounterApp.self)
    }
}
