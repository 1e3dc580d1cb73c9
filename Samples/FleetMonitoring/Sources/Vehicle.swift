import Distributed
import SampleSupport
import Shoal

/// One vehicle: its engine temperature over rolling windows, its
/// heartbeat while the engine runs, and its current trip's ETA. All three
/// run on event time, with event-time timers: a partition's watermark only
/// moves with its own records, and every vehicle of the partition keeps
/// reporting, so a silent vehicle's deadline passes while its neighbours
/// talk (or, at the latest, when it reports again).
distributed actor Vehicle: Entity {
    typealias ActorSystem = ShoalActorSystem

    struct State: Codable, Sendable {
        var heartbeat = Heartbeat()
        var engine = EngineHealth()
        var trip: TripWatch?
        /// An arrival delivered before its trip's start.
        var earlyArrival: TripArrival?
    }

    enum Timers {
        static let heartbeat = "heartbeat"
        static let eta = "eta"
        static let windows = "windows"
    }

    var state = State()
    static var stateTimeToLive: Duration? { FleetRules.stateTimeToLive }

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ event: VehicleEvent, in context: EntityContext) throws {
        switch event.kind {
        case .telemetry: try report(event, in: context)
        case .tripStarted: try startTrip(event, in: context)
        case .tripArrived: try arrive(event, in: context)
        case .ignitionOff: park(event, in: context)
        }
    }

    func timerFired(_ timer: EntityTimer, in context: EntityContext) throws {
        switch timer.name {
        case Timers.heartbeat: try alertSilence(in: context)
        case Timers.eta: try alertOverdueTrip(in: context)
        case Timers.windows: try closeWindows(in: context)
        default: break
        }
    }

    // MARK: Events

    private func report(_ event: VehicleEvent, in context: EntityContext) throws {
        guard let celsius = event.engineTempC else {
            throw InvalidEvent("telemetry of \(event.vehicle) at \(event.at) has no engine temperature")
        }
        state.engine.add(celsius, at: event.at, watermark: context.watermark)
        context.scheduleClosing(of: state.engine.windows, timer: Timers.windows)
        if let deadline = state.heartbeat.report(at: event.at, watermark: context.watermark) {
            context.setTimer(Timers.heartbeat, at: deadline)
        }
    }

    private func startTrip(_ event: VehicleEvent, in context: EntityContext) throws {
        guard let trip = event.trip, let eta = event.eta else {
            throw InvalidEvent("trip start of \(event.vehicle) at \(event.at) needs a trip and an ETA")
        }
        let watch = TripWatch(trip: trip, destination: event.destination ?? "?", started: event.at, eta: eta)
        if let arrival = state.earlyArrival, arrival.trip == trip {
            // Its arrival was delivered first: the trip is over already.
            state.earlyArrival = nil
            return try alertLateArrival(watch, at: arrival.at, in: context)
        }
        // A new trip replaces the one before (the dispatcher reassigned it).
        state.trip = watch
        context.setTimer(Timers.eta, at: watch.deadline)
    }

    private func arrive(_ event: VehicleEvent, in context: EntityContext) throws {
        guard let trip = event.trip else {
            throw InvalidEvent("arrival of \(event.vehicle) at \(event.at) needs a trip")
        }
        guard let watch = state.trip, watch.trip == trip else {
            state.earlyArrival = TripArrival(trip: trip, at: event.at)
            return
        }
        state.trip = nil
        context.cancelTimer(Timers.eta)
        try alertLateArrival(watch, at: event.at, in: context)
    }

    /// The alert for an arrival after the ETA, unless the ETA's timer gave one.
    private func alertLateArrival(_ watch: TripWatch, at arrival: EventTime, in context: EntityContext) throws {
        guard !watch.alerted, arrival > watch.eta else { return }
        try context.emitFleetAlert(FleetAlert(
            rule: "delayed", key: context.key, trip: watch.trip, at: watch.eta,
            detail: "arrived at \(watch.destination) \(watch.minutesLate(at: arrival)) min after its ETA (trip \(watch.trip))"
        ))
    }

    private func park(_ event: VehicleEvent, in context: EntityContext) {
        if state.heartbeat.park(at: event.at) { context.cancelTimer(Timers.heartbeat) }
    }

    // MARK: Timers

    private func alertSilence(in context: EntityContext) throws {
        guard let lastSeen = state.heartbeat.lastSeen else { return }
        try context.emitFleetAlert(FleetAlert(
            rule: "missing-heartbeat", key: context.key, at: lastSeen,
            detail: "no report for over \(FleetRules.heartbeatTimeout.components.seconds) s with the engine running"
        ))
    }

    private func alertOverdueTrip(in context: EntityContext) throws {
        guard var watch = state.trip, !watch.alerted else { return }
        watch.alerted = true
        state.trip = watch
        try context.emitFleetAlert(FleetAlert(
            rule: "delayed", key: context.key, trip: watch.trip, at: watch.eta,
            detail: "not at \(watch.destination) by its ETA (trip \(watch.trip), \(Int((watch.eta - watch.started) / .seconds(60))) min planned)"
        ))
    }

    private func closeWindows(in context: EntityContext) throws {
        for episode in state.engine.close(at: context.watermark) {
            try context.emitFleetAlert(FleetAlert(
                rule: "engine-temperature", key: context.key, at: episode.window.end,
                detail: "engine at \(Self.celsius(episode.meanC)) °C on average over \(FleetRules.temperatureWindow.components.seconds / 60) min (\(episode.readings) readings, peak \(Self.celsius(episode.maximumC)) °C), limit \(Self.celsius(FleetRules.temperatureLimitC)) °C"
            ))
        }
        context.scheduleClosing(of: state.engine.windows, timer: Timers.windows)
    }

    private static func celsius(_ value: Double) -> String {
        String(Double((value * 10).rounded()) / 10)
    }
}

extension EntityContext {
    fileprivate func emitFleetAlert(_ alert: FleetAlert) throws {
        try emit(topic: FleetMonitoring.alerts, key: alert.key, value: alert)
    }
}
