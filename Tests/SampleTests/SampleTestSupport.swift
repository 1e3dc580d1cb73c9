import Foundation
import SampleSupport
import ShoalTesting
import Testing
import TestSupport

extension ReplayResult {
    /// The findings among the outputs on `topics` decoded as `Output`
    /// (`finding` nil for an output that flags nothing), with how often each came.
    func findings<Output: Decodable>(
        _ type: Output.Type, on topics: [String], _ finding: (Output) -> Finding?
    ) throws -> [Finding: Int] {
        var findings: [Finding: Int] = [:]
        for topic in topics {
            for output in try outputs(Output.self, topic: topic) {
                if let found = finding(output) { findings[found, default: 0] += 1 }
            }
        }
        return findings
    }
}

/// Hand-written events as one partition of `topic`, numbered in the order given.
func onePartition<Event: Encodable>(_ events: [Event], of topic: String, key: (Event) -> String) throws -> [ReplayEvent] {
    try events.enumerated().map { index, event in
        try ReplayEvent(topic: topic, offset: Int64(index), key: key(event), json: event)
    }
}

/// Every one of `expected` was found exactly once, and nothing else.
func expectFoundOnce<Found: Hashable & Comparable>(
    _ expected: Set<Found>, found findings: [Found: Int], extra: Comment = "flagged but not planted",
    missing: Comment = "planted but not caught", sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(Set(findings.keys).subtracting(expected).sorted() == [], extra, sourceLocation: sourceLocation)
    #expect(expected.subtracting(findings.keys).sorted() == [], missing, sourceLocation: sourceLocation)
    #expect(findings.values.allSatisfy { $0 == 1 }, "\(findings.filter { $0.value > 1 })", sourceLocation: sourceLocation)
}

/// A sample's golden replay: the journal its generator writes for `seed`
/// and `count` is the one kept in `Samples/<sample>/Golden/`, and replaying
/// it (every stage) gives the lines of the golden file next to it.
func expectGoldenReplay(
    of application: any ShoalApplication.Type, sample: String, seed: UInt64, count: Int,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let replay = try Replay(application)
    let directory = packageRoot.appendingPathComponent("Samples/\(sample)/Golden")
    let journal = directory.appendingPathComponent("journal.jsonl")
    guard let load = application.load(seed: seed, count: count) else {
        Issue.record("\(sample) has no load generator", sourceLocation: sourceLocation)
        return
    }
    let generated = replay.events(of: Array(load))
    let lines = generated.map(\.journalLine).joined(separator: "\n") + "\n"
    if GoldenComparison.isUpdating {
        try lines.write(to: journal, atomically: true, encoding: .utf8)
    }
    let kept = try ReplayJournal.jsonLines(at: journal)
    #expect(kept.map(\.journalLine) == generated.map(\.journalLine), "the generator no longer writes the kept journal", sourceLocation: sourceLocation)
    let result = try await replay.runPipeline(kept)
    let comparison = try GoldenComparison(result, golden: journal.appendingPathExtension("golden"))
    #expect(comparison.matches, "\(comparison)", sourceLocation: sourceLocation)
    let again = try await replay.runPipeline(kept, transitions: false)
    #expect(again.reportLines == result.reportLines, "two replays differ", sourceLocation: sourceLocation)
}
