import Foundation
@testable import Shoal
import Testing
@testable import CounterApp

extension ReplayTests {
    /// A journal recorded before an erase still holds the erased entity's
    /// events: a replay given the node's files (`--erasures`) skips them
    /// and says so, and refuses a replay of that key alone; the file
    /// records the erase by a salted digest, never the key.
    @Test(.timeLimit(.minutes(2)))
    func aReplaySkipsTheEventsOfAnEntityErasedSinceItsJournalWasRecorded() async throws {
        let directory = try temporaryDirectory()
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let store = try PartitionStore(path: data.appendingPathComponent("counter-events-3.sqlite").path)
        var commit = StoreCommit(nextOffset: 0)
        commit.erased = [Erasure(entity: EntityID(type: "Counter", key: "key-2"), id: "erase-7", requester: "a test")]
        try store.commit(commit)
        store.close()
        #expect(filesHolding("key-2", in: data.path).isEmpty, "the record names no key")

        let journal = directory.appendingPathComponent("before.jsonl")
        let lines = (0..<12).map { index in
            "{\"topic\":\"counter-events\",\"key\":\"key-\(index % 4)\",\"value\":{\"key\":\"key-\(index % 4)\",\"seq\":\(index / 4),\"amount\":1}}"
        }
        try (lines.joined(separator: "\n") + "\n").write(to: journal, atomically: true, encoding: .utf8)

        let replay = try ChildProcess(
            executable: "CounterApp", arguments: ["replay", "--journal", journal.path, "--erasures", data.path], directory: directory, name: "replay"
        )
        #expect(await replay.waitForExit() == 0, "\(replay.errors)")
        #expect(replay.errors.contains("skipped 3 events of entities erased since the journal was recorded (erases erase-7)"), "\(replay.errors)")
        #expect(!replay.output.contains("key-2") && replay.output.contains("key-3"), "\(replay.output)")

        let alone = try ChildProcess(
            executable: "CounterApp", arguments: ["replay", "--journal", journal.path, "--erasures", data.path, "--key", "key-2"],
            directory: directory, name: "alone"
        )
        #expect(await alone.waitForExit() == 1)
        #expect(alone.errors.contains("key-2 was erased (erase erase-7): its events are not replayed"), "\(alone.errors)")

        let unaware = try ChildProcess(executable: "CounterApp", arguments: ["replay", "--journal", journal.path], directory: directory, name: "unaware")
        #expect(await unaware.waitForExit() == 0)
        #expect(unaware.output.contains("key-2"), "without the node's files, the journal is all a replay knows")
    }
}
