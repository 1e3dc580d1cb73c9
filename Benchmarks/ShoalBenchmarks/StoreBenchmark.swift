import ArgumentParser
import CStoreBaseline
import Foundation
import Shoal

/// The store's write paths against plain SQLite: journal appends next to a C
/// insert loop of the same rows in the same run, and the time to checkpoint
/// many dirty entities.
struct StoreBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Journal append rate vs a plain SQLite insert loop in C; checkpoint time for many dirty entities."
    )

    @Option(help: "Journal rows per round.")
    var rows: Int = 1_000_000

    @Option(help: "Rows per commit (one transaction).")
    var batch: Int = 1_000

    @Option(help: "Event bytes per row.")
    var valueSize: Int = 100

    @Option(help: "Dirty entities in the checkpoint measurement.")
    var entities: Int = 100_000

    @Option(help: "Rounds of each.")
    var rounds: Int = 3

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-store-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var journalRates: [Double] = []
        var baselineRates: [Double] = []
        var checkpoints: [Double] = []
        for round in 1...rounds {
            let baseline = shoal_baseline_sqlite_append(directory.appendingPathComponent("c-\(round).sqlite").path, rows, batch, valueSize)
            guard baseline > 0 else { throw ValidationError("the C baseline failed") }
            let journal = try appendJournal(at: directory.appendingPathComponent("j-\(round).sqlite").path)
            let checkpoint = try checkpointEntities(at: directory.appendingPathComponent("s-\(round).sqlite").path)
            baselineRates.append(Double(rows) / baseline)
            journalRates.append(Double(rows) / journal)
            checkpoints.append(checkpoint)
            print(String(
                format: "round %d: C insert loop %.0f rows/s, journal %.0f rows/s, checkpoint of %d entities %.3f s",
                round, Double(rows) / baseline, Double(rows) / journal, entities, checkpoint
            ))
        }
        let journal = median(journalRates)
        let baseline = median(baselineRates)
        print(String(format: "median rows/s: journal %.0f, C insert loop %.0f; journal/C = %.2f", journal, baseline, journal / baseline))
        print(String(format: "median checkpoint of %d dirty entities: %.3f s", entities, median(checkpoints)))
    }

    /// Seconds to append `rows` journal rows through the store, `batch` per commit.
    private func appendJournal(at path: String) throws -> Double {
        let store = try PartitionStore(path: path)
        let event = [UInt8](repeating: UInt8(ascii: "v"), count: valueSize)
        let keys = (0..<10_000).map { "key-\($0)" }
        let start = ContinuousClock.now
        var offset: Int64 = 0
        while offset < rows {
            var commit = StoreCommit(nextOffset: min(offset + Int64(batch), Int64(rows)))
            commit.journal.reserveCapacity(batch)
            for row in offset..<commit.nextOffset {
                commit.journal.append(JournalEntry(
                    offset: row, entity: "Counter", key: keys[Int(row) % keys.count], event: event, eventTime: 1_700_000_000_000 + row
                ))
            }
            try store.commit(commit)
            offset = commit.nextOffset
        }
        return (ContinuousClock.now - start).seconds
    }

    /// Seconds to commit one snapshot per entity, all in one checkpoint.
    private func checkpointEntities(at path: String) throws -> Double {
        let store = try PartitionStore(path: path)
        let state = Array(#"{"count":42,"sum":4242,"lastSeq":41}"#.utf8)
        var commit = StoreCommit(nextOffset: Int64(entities))
        commit.snapshots = (0..<entities).map { Snapshot(entity: "Counter", key: "key-\($0)", version: 1, offset: Int64($0), state: state) }
        commit.snapshotsComplete = true
        let start = ContinuousClock.now
        try store.commit(commit)
        return (ContinuousClock.now - start).seconds
    }
}
