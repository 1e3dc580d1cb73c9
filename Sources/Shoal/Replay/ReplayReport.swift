import Foundation

/// How the replay command prints: JSON lines on standard output, the
/// summary and progress on standard error.
enum ReplayReport {
    static func print(_ result: ReplayResult) {
        for output in result.outputs {
            line(["output": output.id, "topic": output.topic, "key": output.key ?? NSNull(), "value": json(output.value)])
        }
        for (entity, state) in result.states.sorted(by: { ($0.key.type, $0.key.key) < ($1.key.type, $1.key.key) }) {
            line(["entity": entity.type, "key": entity.key, "state": json(state)])
        }
        for failure in result.failures {
            line(["failed": "\(failure.topic)/\(failure.partition)/\(failure.offset)", "reason": failure.reason])
        }
    }

    static func print(_ diff: ReplayDiff) {
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

    static func counts(_ diff: ReplayDiff) -> String {
        "outputs: \(diff.added.count) added, \(diff.removed.count) removed, \(diff.changed.count) changed; "
            + "\(diff.states.count) states differ" + (diff.isEmpty ? " — no differences" : "")
    }

    static func summary(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    private static func json(_ bytes: [UInt8]) -> Any {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) ?? String(decoding: bytes, as: UTF8.self)
    }

    private static func line(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}
