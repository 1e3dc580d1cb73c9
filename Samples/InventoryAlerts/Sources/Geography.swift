import SampleSupport

/// Where goods are and where they go: the warehouses, the delivery regions
/// (metro areas), and the distance between them.
enum Geography {
    struct Place: Sendable {
        var code: String
        var point: GeoPoint

        init(code: String, latitude: Double, longitude: Double) {
            self.code = code
            point = GeoPoint(latitude: latitude, longitude: longitude)
        }
    }

    static let warehouses: [Place] = [
        Place(code: "WH-NJ", latitude: 40.5, longitude: -74.4), Place(code: "WH-GA", latitude: 33.7, longitude: -84.4),
        Place(code: "WH-IL", latitude: 41.5, longitude: -88.1), Place(code: "WH-TX", latitude: 32.8, longitude: -96.8),
        Place(code: "WH-CA", latitude: 34.1, longitude: -117.6),
    ]

    static let regions: [Place] = [
        Place(code: "NYC", latitude: 40.7, longitude: -74.0), Place(code: "BOS", latitude: 42.4, longitude: -71.1),
        Place(code: "PHL", latitude: 40.0, longitude: -75.2), Place(code: "DCA", latitude: 38.9, longitude: -77.0),
        Place(code: "MIA", latitude: 25.8, longitude: -80.2), Place(code: "ATL", latitude: 33.7, longitude: -84.4),
        Place(code: "CHI", latitude: 41.9, longitude: -87.6), Place(code: "DET", latitude: 42.3, longitude: -83.0),
        Place(code: "MSP", latitude: 45.0, longitude: -93.3), Place(code: "STL", latitude: 38.6, longitude: -90.2),
        Place(code: "HOU", latitude: 29.8, longitude: -95.4), Place(code: "DFW", latitude: 32.8, longitude: -96.8),
        Place(code: "DEN", latitude: 39.7, longitude: -105.0), Place(code: "PHX", latitude: 33.4, longitude: -112.1),
        Place(code: "LAX", latitude: 34.1, longitude: -118.2), Place(code: "SFO", latitude: 37.8, longitude: -122.4),
        Place(code: "SEA", latitude: 47.6, longitude: -122.3),
    ]

    static let warehouseCodes = Set(warehouses.map(\.code))

    /// For each region, the warehouses nearest first (ties by code), with
    /// their distance in km.
    static let byDistance: [String: [(warehouse: String, km: Int)]] = Dictionary(uniqueKeysWithValues: regions.map { region in
        let ranked = warehouses.map { ($0.code, Int(distanceKm(region, $0).rounded())) }
        return (region.code, ranked.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map { (warehouse: $0.0, km: $0.1) })
    })

    /// Great-circle distance in km.
    static func distanceKm(_ a: Place, _ b: Place) -> Double { a.point.distanceKm(to: b.point) }
}
