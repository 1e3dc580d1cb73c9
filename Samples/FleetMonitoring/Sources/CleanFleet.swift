import Shoal

/// The clean part of the fleet's load: vans around a depot, each reporting
/// every 5, 10 or 15 s with its engine at 81–94 °C, making trips that all
/// end at least two minutes before their ETA, until the budget of events is
/// spent; then every van still on a trip arrives (early, but later than the
/// delivery delay after it set off, so the arrival is never delivered
/// before the start) and every engine goes off within 22 s of the van's
/// last report. So no rule can flag a clean van: its mean temperature
/// stays under the limit, its reports come well within the heartbeat
/// timeout (with the delivery delay, the next report or the engine's
/// switch-off is always in before the watermark passes the deadline), its
/// trips are early, and once parked it is not expected to report.
struct CleanFleet {
    struct Van {
        var name: String
        var interval: Int64
        var nextReport: Int64
        var baseTempC: Double
        var latitude: Double
        var longitude: Double
        var trip: (id: String, start: Int64, arrival: Int64)?
        var nextTrip: Int64
        var lastEvent: Int64 = .min
    }

    static let depot = (latitude: 41.85, longitude: -87.65)

    private(set) var events: [VehicleEvent] = []
    private var vans: [Van] = []
    private var random: SeededRandom
    private var trips = 0

    /// About `count` events of about `count / 100` vans (up to 200); the
    /// vans' times start at `start`.
    init(count: Int, start: Int64, random: inout SeededRandom) {
        self.random = random
        defer { random = self.random }
        guard count > 0 else { return }
        vans = (0..<max(1, min(200, count / 100))).map { makeVan($0 + 1, start: start) }
        run(until: count)
    }

    /// When the last clean event happened.
    var end: Int64 { events.map(\.at.milliseconds).max() ?? 0 }

    private mutating func makeVan(_ number: Int, start: Int64) -> Van {
        let interval = Int64(random.pick([5, 10, 15])) * 1_000
        return Van(
            name: TelemetryLoad.vehicle(number), interval: interval, nextReport: start + Int64(random.int(in: 0...Int(interval))),
            baseTempC: Double(random.int(in: 84...90)), latitude: Self.depot.latitude + Double(random.int(in: -200...200)) / 10_000,
            longitude: Self.depot.longitude + Double(random.int(in: -200...200)) / 10_000,
            nextTrip: start + Int64(random.int(in: 10...120)) * 1_000
        )
    }

    /// Events in time order, van by van as each is due, until only the
    /// closing events (arrivals, engines off) fit in `count`.
    private mutating func run(until count: Int) {
        while events.count + closingEvents < count {
            let index = vans.indices.min { nextTime(vans[$0]) < nextTime(vans[$1]) }!
            var van = vans[index]
            step(&van, canStartTrip: count - events.count - closingEvents >= 2)
            vans[index] = van
        }
        let closing = (vans.map(\.lastEvent).max() ?? 0) + 1_000
        for var van in vans {
            var off = closing
            if let trip = van.trip {
                // A trip that set off a moment ago still ends after its start is delivered.
                let arrival = max(closing, trip.start + Int64(TelemetryLoad.maximumDelay) + 1_000)
                emit(&van, VehicleEvent(kind: .tripArrived, vehicle: van.name, at: EventTime(milliseconds: arrival), trip: trip.id))
                off = arrival
            }
            emit(&van, VehicleEvent(kind: .ignitionOff, vehicle: van.name, at: EventTime(milliseconds: off + 1_000)))
        }
    }

    private var closingEvents: Int { vans.reduce(0) { $0 + ($1.trip == nil ? 1 : 2) } }

    private func nextTime(_ van: Van) -> Int64 {
        min(van.nextReport, van.trip?.arrival ?? van.nextTrip)
    }

    private mutating func step(_ van: inout Van, canStartTrip: Bool) {
        if let trip = van.trip, trip.arrival <= van.nextReport {
            emit(&van, VehicleEvent(kind: .tripArrived, vehicle: van.name, at: EventTime(milliseconds: trip.arrival), trip: trip.id))
            van.trip = nil
            van.nextTrip = trip.arrival + Int64(random.int(in: 60...240)) * 1_000
        } else if van.trip == nil, van.nextTrip <= van.nextReport {
            if canStartTrip { startTrip(&van) } else { van.nextTrip = .max }
        } else {
            report(&van)
        }
    }

    private mutating func startTrip(_ van: inout Van) {
        trips += 1
        let planned = Int64(random.int(in: 120...360)) * 1_000
        let actual = planned * Int64(random.int(in: 80...100)) / 100
        let id = "trip-" + String(trips)
        let eta = van.nextTrip + planned + 120_000
        emit(&van, VehicleEvent(
            kind: .tripStarted, vehicle: van.name, at: EventTime(milliseconds: van.nextTrip), trip: id,
            destination: TelemetryLoad.stop(random.int(in: 1...400)), eta: EventTime(milliseconds: eta)
        ))
        van.trip = (id, van.nextTrip, van.nextTrip + actual)
    }

    private mutating func report(_ van: inout Van) {
        let moving = van.trip != nil
        van.latitude += Double(random.int(in: -20...20)) / 10_000
        van.longitude += Double(random.int(in: -20...20)) / 10_000
        emit(&van, TelemetryLoad.telemetry(
            van.name, at: van.nextReport, celsius: van.baseTempC + Double(random.int(in: -30...40)) / 10,
            speedKmh: Double(moving ? random.int(in: 15...70) : random.int(in: 0...10)), latitude: van.latitude, longitude: van.longitude
        ))
        van.nextReport += van.interval
    }

    private mutating func emit(_ van: inout Van, _ event: VehicleEvent) {
        van.lastEvent = max(van.lastEvent, event.at.milliseconds)
        events.append(event)
    }
}
