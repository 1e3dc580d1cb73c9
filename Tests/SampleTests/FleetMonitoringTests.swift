import Foundation
import SampleSupport
import ShoalTesting
import Testing
@testable import FleetMonitoring

@Suite struct FleetMonitoringTests {
    static let start = TelemetryLoad.start.milliseconds

    /// The alerts of a result, as findings, and how often each came.
    static func findings(_ result: ReplayResult) throws -> [Finding: Int] {
        try result.findings(FleetAlert.self, on: [FleetMonitoring.alerts]) { $0.finding }
    }

    /// Hand-written events on one partition, delivered in the order given.
    static func events(_ events: [VehicleEvent]) throws -> [ReplayEvent] {
        try onePartition(events, of: FleetMonitoring.events) { $0.vehicle }
    }

    static func time(_ seconds: Int64) -> EventTime { EventTime(milliseconds: start + seconds * 1_000) }

    static func report(_ vehicle: String, _ seconds: Int64, celsius: Double = 88) -> VehicleEvent {
        VehicleEvent(kind: .telemetry, vehicle: vehicle, at: time(seconds), engineTempC: celsius, speedKmh: 40)
    }

    /// `vehicle` reporting every `every` seconds from `from` up to `to` (excluded).
    static func reports(_ vehicle: String, from: Int64, to: Int64, every: Int64 = 5, celsius: Double = 88) -> [VehicleEvent] {
        stride(from: from, to: to, by: Int(every)).map { report(vehicle, $0, celsius: celsius) }
    }

    static func alerts(_ events: [VehicleEvent]) async throws -> [FleetAlert] {
        try await Replay(FleetMonitoring.self).run(Self.events(events)).outputs(FleetAlert.self, topic: FleetMonitoring.alerts)
    }

    @Test(arguments: [(UInt64(1), 20_000), (UInt64(7), 12_000)])
    func everyPlantedCaseIsCaughtOnceAndNoCleanVehicleIsFlagged(seed: UInt64, count: Int) async throws {
        let load = TelemetryLoad(seed: seed, count: count)
        #expect(load.records.count == count)
        #expect(Set(load.expected.map(\.rule)) == ["engine-temperature", "missing-heartbeat", "delayed"])
        let replay = try Replay(FleetMonitoring.self)
        let result = try await replay.runPipeline(replay.events(of: load.records), transitions: false)
        let findings = try Self.findings(result)
        expectFoundOnce(load.expected, found: findings)
        #expect(result.failures.isEmpty, "\(result.failures.prefix(3))")
        #expect(result.lateEvents.isEmpty)
    }

    @Test func aSilentVehicleIsReportedOnceWhenItsPartitionsWatermarkPassesItsDeadline() async throws {
        // A stops after 5 s; B, on the same partition, goes on. A's deadline
        // is 35 s; B's report at 45 s moves the watermark (less 10 s) to it.
        var events = Self.reports("A", from: 0, to: 10) + Self.reports("B", from: 0, to: 45)
        events.sort { $0.at < $1.at }
        let quiet = try await Replay(FleetMonitoring.self).run(Self.events(events))
        #expect(try quiet.outputs(FleetAlert.self).isEmpty, "the watermark is at 34 s: the timer waits")
        #expect(quiet.pendingTimers.keys.contains { $0.key == "A" })
        let alerts = try await Self.alerts(events + Self.reports("B", from: 45, to: 120))
        #expect(alerts.map(\.finding) == [Finding(rule: "missing-heartbeat", key: "A")])
        #expect(alerts.first?.at == Self.time(5), "the last report")
    }

    @Test func aVehicleThatReportsAgainCanBeMissedAgainButALateReportRaisesNoSecondAlert() async throws {
        let alerts = try await Self.alerts(
            Self.reports("A", from: 0, to: 10) + Self.reports("B", from: 10, to: 60)
                + [Self.report("A", 3)]                                   // late, older than A's last report
                + Self.reports("A", from: 60, to: 70) + Self.reports("B", from: 70, to: 130)
        )
        #expect(alerts.map(\.key) == ["A", "A"])
        #expect(alerts.map(\.at) == [Self.time(5), Self.time(65)])
    }

    @Test func aReportDeliveredAfterTheEngineWentOffDoesNotRestartTheWatch() async throws {
        // A's report at 19 s is delivered after its engine went off at 22 s.
        let before = (Self.reports("A", from: 0, to: 19) + Self.reports("B", from: 0, to: 25)).sorted { $0.at < $1.at }
        let alerts = try await Self.alerts(
            before + [VehicleEvent(kind: .ignitionOff, vehicle: "A", at: Self.time(22)), Self.report("A", 19)]
                + Self.reports("B", from: 25, to: 120)
        )
        #expect(alerts.isEmpty)
    }

    static func tripStart(_ vehicle: String, at seconds: Int64 = 0, eta: Int64 = 60) -> VehicleEvent {
        VehicleEvent(kind: .tripStarted, vehicle: vehicle, at: time(seconds), trip: "t-\(vehicle)", destination: "dock", eta: time(eta))
    }

    static func arrival(_ vehicle: String, _ seconds: Int64) -> VehicleEvent {
        VehicleEvent(kind: .tripArrived, vehicle: vehicle, at: time(seconds), trip: "t-\(vehicle)")
    }

    @Test func aTripIsDelayedOnceWhetherTheETAPassesFirstOrTheLateArrivalComesFirst() async throws {
        // Every ETA is at 60 s; "stuck" reports every 5 s and moves the watermark.
        let alerts = try await Self.alerts(
            [Self.tripStart("early"), Self.tripStart("onTime"), Self.tripStart("late"), Self.tripStart("stuck")]
                + Self.reports("stuck", from: 0, to: 50)
                + [Self.arrival("early", 50), Self.arrival("onTime", 60)]   // an arrival at the ETA is on time
                + Self.reports("stuck", from: 50, to: 65)                    // the watermark reaches 50 s
                + [Self.arrival("late", 65)]                                 // late, before the watermark passed the ETA
                + Self.reports("stuck", from: 65, to: 80)                    // the watermark passes 60 s
                + [Self.arrival("stuck", 80)]
        )
        #expect(alerts.map(\.finding) == [Finding(rule: "delayed", key: "late"), Finding(rule: "delayed", key: "stuck")])
        #expect(alerts.map(\.trip) == ["t-late", "t-stuck"])
        #expect(alerts.map(\.detail).last?.hasPrefix("not at dock by its ETA") == true)
    }

    @Test func anArrivalDeliveredBeforeItsTripsStartEndsTheTrip() async throws {
        let alerts = try await Self.alerts(
            [Self.arrival("A", 40), Self.tripStart("A"), Self.arrival("B", 70), Self.tripStart("B")]
                + Self.reports("C", from: 0, to: 120)
        )
        #expect(alerts.map(\.finding) == [Finding(rule: "delayed", key: "B")], "A arrived before its ETA; B after it")
    }

    @Test func reportsUploadedLateAfterASilenceDoNotRaiseASecondAlert() async throws {
        // A falls silent after 5 s and is reported; at 80 s its modem
        // uploads what it buffered (10 to 60 s), then reports live again.
        let alerts = try await Self.alerts(
            Self.reports("A", from: 0, to: 10) + Self.reports("B", from: 10, to: 80)
                + Self.reports("A", from: 10, to: 65) + Self.reports("A", from: 80, to: 100)
                + Self.reports("B", from: 80, to: 100)
        )
        #expect(alerts.map(\.finding) == [Finding(rule: "missing-heartbeat", key: "A")])
    }

    @Test func anEngineThatStaysHotRaisesOneAlertPerEpisode() async throws {
        // Hot for 4 min (several hot windows in a row: one episode), normal
        // for 4 min, hot again for 3: two alerts.
        let alerts = try await Self.alerts(
            Self.reports("A", from: 0, to: 240, every: 10, celsius: 112)
                + Self.reports("A", from: 240, to: 480, every: 10, celsius: 90)
                + Self.reports("A", from: 480, to: 660, every: 10, celsius: 112)
                + Self.reports("A", from: 660, to: 900, every: 10, celsius: 90)
        )
        #expect(alerts.map(\.rule) == ["engine-temperature", "engine-temperature"])
        #expect(alerts.map(\.key) == ["A", "A"])
    }

    @Test func aMeanAtTheLimitIsNotAnAlert() async throws {
        let alerts = try await Self.alerts(
            Self.reports("A", from: 0, to: 300, every: 10, celsius: FleetRules.temperatureLimitC)
                + Self.reports("A", from: 300, to: 500, every: 10, celsius: 90)
        )
        #expect(alerts.isEmpty)
    }

    @Test func theGoldenJournalReplaysAsRecorded() async throws {
        try await expectGoldenReplay(of: FleetMonitoring.self, sample: "FleetMonitoring", seed: 42, count: 400)
    }

    @Test func theSameSeedGivesTheSameEvents() {
        #expect(TelemetryLoad(seed: 5, count: 3_000).records == TelemetryLoad(seed: 5, count: 3_000).records)
        #expect(TelemetryLoad(seed: 5, count: 3_000).records != TelemetryLoad(seed: 6, count: 3_000).records)
        #expect(TelemetryLoad(seed: 5, count: 3_000).expected == TelemetryLoad(seed: 5, count: 3_000).expected)
    }
}
