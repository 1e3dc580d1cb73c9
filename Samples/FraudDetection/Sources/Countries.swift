import SampleSupport

/// Where payments come from: a capital per country, for travel distances.
enum Countries {
    typealias Place = GeoPoint

    static let places: [String: Place] = [
        "US": Place(latitude: 38.9, longitude: -77.0), "CA": Place(latitude: 45.4, longitude: -75.7),
        "MX": Place(latitude: 19.4, longitude: -99.1), "BR": Place(latitude: -15.8, longitude: -47.9),
        "GB": Place(latitude: 51.5, longitude: -0.1), "FR": Place(latitude: 48.9, longitude: 2.4),
        "DE": Place(latitude: 52.5, longitude: 13.4), "ES": Place(latitude: 40.4, longitude: -3.7),
        "IT": Place(latitude: 41.9, longitude: 12.5), "NL": Place(latitude: 52.4, longitude: 4.9),
        "IN": Place(latitude: 28.6, longitude: 77.2), "SG": Place(latitude: 1.4, longitude: 103.8),
        "JP": Place(latitude: 35.7, longitude: 139.7), "AU": Place(latitude: -35.3, longitude: 149.1),
        "ZA": Place(latitude: -25.7, longitude: 28.2),
    ]

    static let codes = places.keys.sorted()

    /// Great-circle distance between two countries' capitals, in km (0 for
    /// an unknown code: no travel can be judged).
    static func distanceKm(_ from: String, _ to: String) -> Double {
        guard let a = places[from], let b = places[to] else { return 0 }
        return a.distanceKm(to: b)
    }
}
