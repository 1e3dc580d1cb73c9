import Foundation
import Testing

@testable import Shoal

/// What a custom `encode(to:)` reads of its coding path: the same keys in
/// the same places as Foundation's encoder gives them.
@Suite("Canonical JSON coding paths")
struct CanonicalJSONCodingPathTests {
    /// Notes the coding path it is encoded at, then encodes a number.
    private final class PathLog: @unchecked Sendable {
        // Unchecked: one test's encode calls write it, on one thread.
        var paths: [String] = []
    }

    private struct Probe: Encodable {
        let log: PathLog
        func encode(to encoder: any Encoder) throws {
            log.paths.append(encoder.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "/"))
            var container = encoder.singleValueContainer()
            try container.encode(1)
        }
    }

    private struct Inner: Encodable {
        var probe: Probe
        var probes: [Probe]
    }

    private struct Outer: Encodable {
        var zeta: Probe
        var alpha: [Inner]
        var nested: [[Probe]]
    }

    @Test func nestedValuesSeeFoundationsPaths() throws {
        func paths(_ encode: (Outer) throws -> Void) rethrows -> [String] {
            let log = PathLog()
            let probe = Probe(log: log)
            try encode(Outer(
                zeta: probe, alpha: [Inner(probe: probe, probes: [probe, probe]), Inner(probe: probe, probes: [])], nested: [[], [probe, probe]]
            ))
            return log.paths
        }
        let ours = try paths { _ = try CanonicalJSON.tapeEncoded($0) }
        let foundations = try paths { _ = try CanonicalJSON.encoder.encode($0) }
        #expect(ours == foundations)
        #expect(ours.contains("alpha/0/probes/1") && ours.contains("nested/1/0"), "\(ours)")
    }
}
