import Shoal
import ArgumentParser
import Foundation

/// `APP replay --journal FILE [--key K] [--diff]`: replays a journal into
/// the current handler code and prints the outputs and final states, or,
/// with `--diff`, what differs from what the journal's node recorded (exit
/// status 1 when anything does, for CI).
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a journal into the current handlers; print outputs and states, or with --diff what changed."
    )

    @Option(help: "A partition file a node recorded (<topic>-<partition>.sqlite) or a JSON Lines journal (.jsonl).")
    var journal: String

    @Option(help: "Only this key's events.")
    var key: String?

    @Flag(help: "Compare with what was recorded (the partition file's outbox and snapshots, or FILE.golden for a .jsonl journal); exit 1 on any difference.")
    var diff = false

    @Flag(help: "Write the replay's outputs and states to FILE.golden (for a .jsonl journal).")
    var updateGolden = false

    @Option(help: "Partition files, or directories of them (a node's data directory), whose erases apply: events of an entity they erased are skipped. Repeat for more.")
    var erasures: [String] = []

    func run() async throws {
        let replay = try Replay(try ShoalApplicationMain.application(for: "replay"))
        let recorded = try recording(replay)
        var events = try recorded?.events ?? ReplayJournal.jsonLines(at: URL(fileURLWithPath: journal))
        if let key { events = events.filter { $0.key == key } }
        let erased = Self.withoutErased(events, try Self.registries(erasures), entityOf: replay.entity(of:))
        if erased.skipped > 0 {
            if let key {
                FileHandle.standardError.write(Data("shoal: \(key) was erased (erase \(erased.erasures.sorted().joined(separator: ", "))): its events are not replayed\n".utf8))
                throw ExitCode(1)
            }
            events = erased.events
            ReplayReport.summary("skipped \(erased.skipped) events of entities erased since the journal was recorded (erases \(erased.erasures.sorted().joined(separator: ", ")))")
        }
        let total = events.count
        let progress: @Sendable (Int) -> Void = { done in
            FileHandle.standardError.write(Data("replayed \(done)/\(total) events\n".utf8))
        }
        // A partition file is one stage of a node's work; a JSON Lines
        // journal is followed through every stage its outputs lead to.
        let result = recorded == nil
            ? try await replay.runPipeline(events, transitions: false, progress: progress)
            : try await replay.run(events, transitions: false, progress: progress)
        if updateGolden {
            try (ReplayReport.lines(result).joined(separator: "\n") + "\n").write(to: goldenURL, atomically: true, encoding: .utf8)
            ReplayReport.summary("wrote \(goldenURL.path)")
        } else if diff {
            let expected = try recorded ?? RecordedPartition(golden: goldenURL, events: events, entityOf: replay.entity(of:))
            let differences = ReplayDiff(recorded: expected, replayed: recorded == nil ? result.normalized : result)
            ReplayReport.print(differences)
            ReplayReport.summary("replayed \(result.applied) events, \(result.failures.count) failed; " + ReplayReport.counts(differences))
            if !differences.isEmpty { throw ExitCode(1) }
        } else {
            ReplayReport.print(result)
            ReplayReport.summary("replayed \(result.applied) events, \(result.failures.count) failed, \(result.outputs.count) outputs, \(result.states.count) entities")
        }
    }

    private var goldenURL: URL { URL(fileURLWithPath: journal + ".golden") }


    private func recording(_ replay: Replay) throws -> RecordedPartition? {
        guard journal.hasSuffix(".sqlite") else { return nil }
        if updateGolden { throw ValidationError("--update-golden is for .jsonl journals; a partition file is its own record") }
        let recorded = try RecordedPartition(at: journal, entityTypes: replay.entityTypes)
        return key.map(recorded.only(key:)) ?? recorded
    }
}
