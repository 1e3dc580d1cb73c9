import Shoal

/// Engine temperature over rolling windows (hopping: `temperatureWindow`
/// long, one starting every `temperatureAdvance`). A window whose mean is
/// above the limit starts an overheating episode, which raises one alert;
/// the episode ends with the first window at or below the limit, so an
/// engine that stays hot is not reported again every minute.
struct EngineHealth: Codable, Sendable {
    var windows = EventWindows<WindowStatistics<Double>>(
        .hopping(size: FleetRules.temperatureWindow, advance: FleetRules.temperatureAdvance)
    )
    var overheating = false

    /// A window that started an episode, and its mean.
    struct Episode: Sendable, Hashable {
        var window: Window
        var meanC: Double
        var maximumC: Double
        var readings: Int
    }

    mutating func add(_ celsius: Double, at time: EventTime, watermark: EventTime) {
        windows.add(celsius, at: time, watermark: watermark)
    }

    /// Closes the windows the watermark has passed, oldest first; returns
    /// those that start an episode.
    mutating func close(at watermark: EventTime) -> [Episode] {
        var started: [Episode] = []
        for closed in windows.close(at: watermark) {
            let statistics = closed.aggregate
            guard statistics.count >= FleetRules.minimumReadings else { continue }
            let mean = statistics.sum / Double(statistics.count)
            guard mean > FleetRules.temperatureLimitC else {
                overheating = false
                continue
            }
            if !overheating {
                started.append(Episode(window: closed.window, meanC: mean, maximumC: statistics.maximum ?? mean, readings: statistics.count))
            }
            overheating = true
        }
        return started
    }
}
