import Shoal

/// Bursts of low-value payments of one subject (account, card or IP):
/// `FraudRules.burstCount` within `FraudRules.burstSpan` of event time,
/// whatever order they arrive in. A burst's payments are consumed, so one
/// burst raises one alert.
struct LowValueBursts: Codable, Sendable {
    var pending = CountWithin<String>(threshold: FraudRules.burstCount, within: FraudRules.burstSpan)

    /// The payments of a burst this one completes.
    mutating func add(_ payment: Payment, watermark: EventTime) -> [PatternEvent<String>]? {
        defer { pending.expire(at: watermark) }
        guard payment.amount < FraudRules.lowValue else { return nil }
        return pending.add(payment.id, at: payment.at)
    }
}

/// One IP used by many accounts: `FraudRules.sharedIPAccounts` accounts
/// paying from it for the first time within `FraudRules.sharedIPSpan`.
struct SharedIP: Codable, Sendable {
    /// Accounts seen on this IP recently, with their last payment's time.
    var accounts: [String: EventTime] = [:]
    var newcomers = CountWithin<String>(threshold: FraudRules.sharedIPAccounts, within: FraudRules.sharedIPSpan)

    mutating func add(_ payment: Payment, watermark: EventTime) -> [PatternEvent<String>]? {
        defer {
            newcomers.expire(at: watermark)
            let horizon = watermark - FraudRules.sharedIPSpan
            accounts = accounts.filter { $0.value >= horizon }
        }
        let known = accounts[payment.account]
        accounts[payment.account] = max(known ?? payment.at, payment.at)
        guard known == nil else { return nil }
        return newcomers.add(payment.id, at: payment.at)
    }
}

/// Impossible travel: two payments of one account from countries further
/// apart than anyone can travel in the time between them. Out-of-order
/// payments are compared with their neighbours in event time; a payment
/// already part of an alert raises no second one.
struct TravelCheck: Codable, Sendable {
    struct Sighting: Codable, Sendable {
        var at: EventTime
        var country: String
        var payment: String
        var flagged = false
    }

    /// Recent payments, by event time.
    var sightings: [Sighting] = []

    /// The earlier sighting and the speed (km/h) when `payment` makes an
    /// impossible journey with a neighbour.
    mutating func add(_ payment: Payment, watermark: EventTime) -> (other: Sighting, speed: Double)? {
        let horizon = watermark - FraudRules.travelHorizon
        sightings.removeAll { $0.at < horizon }
        let index = sightings.firstIndex { $0.at > payment.at } ?? sightings.count
        sightings.insert(Sighting(at: payment.at, country: payment.country, payment: payment.id), at: index)
        for neighbour in [index - 1, index + 1] where sightings.indices.contains(neighbour) {
            guard !sightings[neighbour].flagged, sightings[neighbour].country != payment.country else { continue }
            let speed = Self.speed(sightings[neighbour], sightings[index])
            if speed > FraudRules.travelSpeedKmH {
                sightings[neighbour].flagged = true
                sightings[index].flagged = true
                return (sightings[neighbour], speed)
            }
        }
        return nil
    }

    private static func speed(_ a: Sighting, _ b: Sighting) -> Double {
        let hours = max(Double(abs(a.at.milliseconds - b.at.milliseconds)) / 3_600_000, 1.0 / 60)
        return Countries.distanceKm(a.country, b.country) / hours
    }
}
