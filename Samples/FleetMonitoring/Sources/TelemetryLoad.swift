import SampleSupport
import Shoal

/// The sample's seeded vehicle events: a clean fleet (see `CleanFleet`)
/// with cases planted in it, delivered up to 5 s out of order. The same
/// seed and count give the same events, and `expected` lists what must be
/// caught.
///
/// About one case in 2,000 events (at least one of each kind) is planted,
/// each on a vehicle of its own that reports every 20 s (well within the
/// heartbeat timeout) and switches its engine off at the end:
/// - overheating: 3 minutes of normal readings, 3 minutes at 110–116 °C,
///   3 minutes normal again: the windows inside the hot stretch average
///   far above the limit (one episode, one alert);
/// - a silence: 2 minutes of reports, 2 minutes of nothing (the unit lost
///   its signal), a minute of reports again;
/// - a delay: a trip with an ETA 4 minutes after its start that arrives
///   after 7.
/// Each case ends with events of its own vehicle well past its deadline,
/// so it is caught even when no other vehicle of its partition reports
/// any more (at the end of the load).
struct TelemetryLoad {
    static let start = EventTime(milliseconds: 1_767_225_600_000) // 2026-01-01T00:00:00Z
    static let casesEvery = 2_000
    static let maximumDelay = 5_000
    /// How often a planted vehicle reports.
    static let plantedInterval: Int64 = 20_000

    enum Case: CaseIterable {
        case overheating, silence, delay

        /// Reports and other events, engine off included.
        var events: Int {
            switch self {
            case .overheating: 28
            case .silence: 10
            case .delay: 27
            }
        }
    }

    private(set) var records: [LoadRecord] = []
    private(set) var expected: Set<Finding> = []
    private var random: SeededRandom
    private var events = DeliveryQueue<VehicleEvent>()
    private var planted = 0

    init(seed: UInt64, count: Int) {
        random = SeededRandom(seed: seed)
        let kinds = Planting.kinds(Case.self, count: count, every: Self.casesEvery)
        let plantedCount = kinds.reduce(0) { $0 + $1.events }
        let clean = CleanFleet(count: count - plantedCount, start: Self.start.milliseconds, random: &random)
        for event in clean.events { add(event) }
        let duration = max(clean.end - Self.start.milliseconds, 60_000)
        for (index, kind) in kinds.enumerated() {
            plant(kind, at: Planting.time(of: index, among: kinds.count, start: Self.start.milliseconds, duration: duration))
        }
        records = events.records(topic: FleetMonitoring.events, key: \.vehicle) { ($0.vehicle, $0.at) < ($1.vehicle, $1.at) }
    }

    // MARK: Planted cases

    private mutating func plant(_ kind: Case, at time: Int64) {
        planted += 1
        let vehicle = Self.vehicle(9_000 + planted)
        let before = events.count
        switch kind {
        case .overheating:
            for index in 0..<27 {
                let hot = (9..<18).contains(index)
                let celsius = hot ? Double(random.int(in: 1_100...1_160)) / 10 : Double(random.int(in: 840...900)) / 10
                reportPlanted(vehicle, at: time + Int64(index) * Self.plantedInterval, celsius: celsius)
            }
            park(vehicle, at: time + 27 * Self.plantedInterval)
            expected.insert(Finding(rule: "engine-temperature", key: vehicle))
        case .silence:
            for index in Array(0..<6) + Array(12..<15) {
                reportPlanted(vehicle, at: time + Int64(index) * Self.plantedInterval, celsius: 88)
            }
            park(vehicle, at: time + 15 * Self.plantedInterval)
            expected.insert(Finding(rule: "missing-heartbeat", key: vehicle))
        case .delay:
            let trip = "trip-9\(planted)"
            let departure = time + 10_000
            add(VehicleEvent(
                kind: .tripStarted, vehicle: vehicle, at: EventTime(milliseconds: departure), trip: trip,
                destination: Self.stop(900 + planted), eta: EventTime(milliseconds: departure + 240_000)
            ))
            for index in 0..<24 { reportPlanted(vehicle, at: time + Int64(index) * Self.plantedInterval, celsius: 87) }
            add(VehicleEvent(kind: .tripArrived, vehicle: vehicle, at: EventTime(milliseconds: departure + 420_000), trip: trip))
            park(vehicle, at: time + 24 * Self.plantedInterval)
            expected.insert(Finding(rule: "delayed", key: vehicle))
        }
        assert(events.count - before == kind.events, "\(kind) plants \(events.count - before) events")
    }

    private mutating func reportPlanted(_ vehicle: String, at time: Int64, celsius: Double) {
        add(Self.telemetry(
            vehicle, at: time, celsius: celsius, speedKmh: Double(random.int(in: 20...60)),
            latitude: CleanFleet.depot.latitude, longitude: CleanFleet.depot.longitude
        ))
    }

    private mutating func park(_ vehicle: String, at time: Int64) {
        add(VehicleEvent(kind: .ignitionOff, vehicle: vehicle, at: EventTime(milliseconds: time)))
    }

    // MARK: Events

    /// Adds an event, delivered up to `maximumDelay` after it happened.
    private mutating func add(_ event: VehicleEvent) {
        events.add(event, deliveredAt: event.at.milliseconds + Int64(random.int(in: 0...Self.maximumDelay)))
    }

    static func telemetry(
        _ vehicle: String, at time: Int64, celsius: Double, speedKmh: Double, latitude: Double, longitude: Double
    ) -> VehicleEvent {
        VehicleEvent(
            kind: .telemetry, vehicle: vehicle, at: EventTime(milliseconds: time), engineTempC: rounded(celsius, 10),
            speedKmh: speedKmh, latitude: rounded(latitude, 100_000), longitude: rounded(longitude, 100_000)
        )
    }

    static func rounded(_ value: Double, _ scale: Double) -> Double { (value * scale).rounded() / scale }

    static func vehicle(_ number: Int) -> String { paddedID("veh", number, width: 4) }

    static func stop(_ number: Int) -> String { paddedID("stop", number, width: 4) }
}
