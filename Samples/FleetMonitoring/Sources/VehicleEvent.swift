import SampleSupport
import Shoal

/// What a vehicle's on-board unit writes to `vehicle-events`, keyed by
/// vehicle: telemetry every few seconds while the engine runs, the start
/// and the end of each trip (the driver's app), and the engine switched
/// off. `at` is when it happened (milliseconds since the epoch).
struct VehicleEvent: Codable, Sendable, Hashable {
    enum Kind: String, Codable, Sendable {
        case telemetry
        case tripStarted = "trip-started"
        case tripArrived = "trip-arrived"
        case ignitionOff = "ignition-off"
    }

    var kind: Kind
    var vehicle: String
    var at: EventTime
    /// Telemetry: engine coolant temperature, speed and position.
    var engineTempC: Double?
    var speedKmh: Double?
    var latitude: Double?
    var longitude: Double?
    /// A trip's id (start and arrival), destination and ETA (start).
    var trip: String?
    var destination: String?
    var eta: EventTime?
}

/// What the sample writes to `fleet-alerts`, keyed by vehicle.
struct FleetAlert: Codable, Sendable, Hashable {
    /// `engine-temperature`, `missing-heartbeat` or `delayed`.
    var rule: String
    /// The vehicle.
    var key: String
    /// The trip, for `delayed`.
    var trip: String?
    /// The event time the alert is about: the hot window's end, the last
    /// report, the ETA.
    var at: EventTime
    var detail: String

    var finding: Finding { Finding(rule: rule, key: key) }
}

/// The sample's thresholds, in one place.
enum FleetRules {
    /// A running vehicle that has not reported for this long is missing.
    static let heartbeatTimeout = Duration.seconds(30)
    /// Engine temperature is judged on windows this long...
    static let temperatureWindow = Duration.seconds(120)
    /// ...starting every minute (each reading counts in two windows)...
    static let temperatureAdvance = Duration.seconds(60)
    /// ...holding at least this many readings (fewer say too little)...
    static let minimumReadings = 4
    /// ...whose mean must stay at or below this.
    static let temperatureLimitC = 105.0
    /// How far out of order the modems deliver events.
    static let outOfOrderness = Duration.seconds(10)
    /// A vehicle unheard of for a day starts afresh.
    static let stateTimeToLive = Duration.seconds(24 * 3_600)
}
