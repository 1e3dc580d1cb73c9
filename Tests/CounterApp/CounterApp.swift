import Foundation
import Shoal
import ShoalApp

/// The tests' application: a counter per key that folds amounts and emits
/// a running total per event.
struct CounterApp: ShoalApplication {
    static let topics: [EmbeddedBroker.Topic] = [
        .init(name: "counter-events", partitions: 8),
        // Twice the input's partitions: outputs carry an id header and a
        // stop can repeat some, and the embedded broker keeps ~5 MiB each.
        .init(name: "counter-totals", partitions: 16),
        .init(name: "reminders", partitions: 8),
        .init(name: "reminders-fired", partitions: 8),
        .init(name: "visits", partitions: 8),
        .init(name: "sessions-closed", partitions: 8),
        .init(name: "basket-items", partitions: 8),
        .init(name: "basket-orders", partitions: 8),
        .init(name: "basket-notes", partitions: 8),
        .init(name: "basket-steps", partitions: 16),
        .init(name: "purchases", partitions: 8),
        .init(name: "products", partitions: 4),
        .init(name: "receipts", partitions: 8),
    ]

    static var topology: Topology {
        Topology { topology in
            topology.route(topic: "counter-events", to: Counter.self, key: .field(\CounterEvent.key)) { counter, event, context in
                try counter.handle(event, in: context)
            }
            // The basket's three co-partitioned topics only when asked (`COUNTER_BASKETS`).
            if ProcessInfo.processInfo.environment["COUNTER_BASKETS"] != nil { Basket.routes(into: &topology) }
            // The timer and session routes only when asked (`COUNTER_REMINDERS`):
            // the other tests count the partitions of the counter topic alone.
            guard ProcessInfo.processInfo.environment["COUNTER_REMINDERS"] != nil else { return }
            topology.route(
                topic: "reminders", to: Reminder.self, key: .field(\ReminderEvent.key), eventTime: .field(\ReminderEvent.at)
            ) { reminder, event, context in
                reminder.handle(event, in: context)
            }
            topology.route(topic: "visits", to: Visit.self, key: .field(\PageView.key), eventTime: .field(\PageView.at)) { visit, view, context in
                visit.handle(view, in: context)
            }
        }
    }
}

@main
enum CounterMain {
    static func main() async {
        await ShoalApplicationMain.run(CounterApp.self)
    }
}
