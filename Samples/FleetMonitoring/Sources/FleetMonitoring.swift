import Shoal
import ShoalApp

/// Fleet monitoring on a stream of vehicle telemetry: engines running hot
/// over a rolling window, vehicles that stop reporting, and trips not
/// finished by their ETA. See the sample's README.
struct FleetMonitoring: ShoalApplication {
    static let events = "vehicle-events"
    static let alerts = "fleet-alerts"

    static let topics: [EmbeddedBroker.Topic] = [
        .init(name: events, partitions: 8),
        .init(name: alerts, partitions: 4),
    ]

    static var alertTopics: [String] { [alerts] }

    static var topology: Topology {
        Topology { topology in
            // The vehicles' modems deliver up to a few seconds late; what comes
            // later than the tolerance is applied anyway (a late reading still
            // belongs in the statistics, a late arrival still ends its trip).
            let reported = EventTimePolicy<VehicleEvent>.field(\.at, outOfOrderness: FleetRules.outOfOrderness, late: .apply)
            topology.route(topic: events, to: Vehicle.self, key: .field(\.vehicle), eventTime: reported) { vehicle, event, context in
                try vehicle.handle(event, in: context)
            }
        }
    }

    static func load(seed: UInt64, count: Int) -> (any Sequence<LoadRecord>)? {
        TelemetryLoad(seed: seed, count: count).records
    }
}

@main
enum FleetMonitoringMain {
    static func main() async {
        await ShoalApplicationMain.run(FleetMonitoring.self)
    }
}
