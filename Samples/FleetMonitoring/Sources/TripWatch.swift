import Shoal

/// The vehicle's current trip and its ETA. It is late once the watermark
/// passes the ETA with no arrival (an event-time timer just after the ETA,
/// so that an arrival at the ETA itself is on time), or when the arrival
/// comes after the ETA before that timer fired. Either way one alert.
struct TripWatch: Codable, Sendable, Hashable {
    var trip: String
    var destination: String
    var started: EventTime
    var eta: EventTime
    var alerted = false

    /// When the timer that checks the ETA fires.
    var deadline: EventTime { eta + .milliseconds(1) }

    /// Minutes from the ETA to `time`, rounded up.
    func minutesLate(at time: EventTime) -> Int {
        Int(((time - eta) / .seconds(60)).rounded(.up))
    }
}

/// A trip's arrival, kept when it is delivered before the trip's start.
struct TripArrival: Codable, Sendable, Hashable {
    var trip: String
    var at: EventTime
}
