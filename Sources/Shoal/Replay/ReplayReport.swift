import Foundation

/// How the replay command prints: JSON lines on standard output, the
/// summary and progress on standard error.
package enum ReplayReport {
    package static func print(_ result: ReplayResult) {
        for text in lines(result) { Swift.print(text) }
    }

    /// The result as JSON lines: outputs, then final states, then failures.
    /// A golden file holds exactly these lines.
    package static func lines(_ result: ReplayResult) -> [String] {
        var lines: [String] = []
        for output in result.outputs {
            lines.append(encode(["output": output.id, "topic": output.topic, "key": output.key ?? NSNull(), "value": json(output.value)]))
        }
        for (entity, state) in result.states.sorted(by: { ($0.key.type, $0.key.key) < ($1.key.type, $1.key.key) }) {
            lines.append(encode(["entity": entity.type, "key": entity.key, "state": json(state)]))
        }
        for failure in result.failures {
            lines.append(encode(["failed": "\(failure.topic)/\(failure.partition)/\(failure.offset)", "reason": failure.reason]))
        }
        return lines
    }

    package static func print(_ diff: ReplayDiff) {
        for (kind, changes) in [("added", diff.added), ("removed", diff.removed), ("changed", diff.changed)] {
            for change in changes {
                line([
                    kind: change.id, "recorded": change.recorded.map { json($0.value) } ?? NSNull(),
                    "replayed": change.replayed.map { json($0.value) } ?? NSNull(),
                ])
            }
        }
        for (entity, states) in diff.states.sorted(by: { ($0.key.type, $0.key.key) < ($1.key.type, $1.key.key) }) {
            line([
                "state": "\(entity.type) \(entity.key)", "recorded": states.recorded.map(json) ?? NSNull(),
                "replayed": states.replayed.map(json) ?? NSNull(),
                "firstDivergentOffset": diff.firstDivergence[entity].map { $0 as Any } ?? NSNull(),
            ])
        }
    }

    package static func counts(_ diff: ReplayDiff) -> String {
        "outputs: \(diff.added.count) added, \(diff.removed.count) removed, \(diff.changed.count) changed; "
            + "\(diff.states.count) states differ" + (diff.isEmpty ? " — no differences" : "")
    }

    package static func summary(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    package static func json(_ bytes: [UInt8]) -> Any {
        (try? CanonicalJSON.object(bytes)) ?? String(decoding: bytes, as: UTF8.self)
    }

    /// `bytes` re-encoded the way golden files hold JSON (sorted keys), so
    /// that both sides of a comparison are written alike.
    package static func normalized(_ bytes: [UInt8]) -> [UInt8] {
        Array(encode(json(bytes)).utf8)
    }

    private static func encode(_ object: Any) -> String {
        CanonicalJSON.line(object)
    }

    private static func line(_ object: [String: Any]) {
        Swift.print(encode(object))
    }
}

extension ReplayResult {
    /// The result as `replay` prints it and golden files hold it: one JSON
    /// line per output (in order), per final state (by entity) and per
    /// failure.
    public var reportLines: [String] { ReplayReport.lines(self) }
}
