import Foundation

/// A replay's result compared with a golden file: the lines `replay`
/// prints, kept next to a test's journal.
public struct GoldenComparison: Sendable, CustomStringConvertible {
    /// Lines of the golden file the replay did not give.
    public var missing: [String]
    /// Lines the replay gave that the golden file does not hold.
    public var unexpected: [String]
    /// Whether the golden file was written instead of compared.
    public var updated: Bool

    /// True when both hold the same lines in the same order.
    public var matches: Bool { missing.isEmpty && unexpected.isEmpty }

    /// Whether golden files are being written rather than compared: the
    /// environment variable `SHOAL_UPDATE_GOLDEN` is `1`. Other files kept
    /// with a golden file (a journal) follow the same switch.
    public static var isUpdating: Bool { ProcessInfo.processInfo.environment["SHOAL_UPDATE_GOLDEN"] == "1" }

    /// Compares `result` with the golden file at `url`. While
    /// ``isUpdating``, writes the file instead: review its diff before
    /// committing it. A missing file is a mismatch.
    public init(_ result: ReplayResult, golden url: URL) throws {
        let lines = result.reportLines
        if Self.isUpdating {
            try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
            self.init(missing: [], unexpected: [], updated: true)
            return
        }
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            self.init(missing: ["(no golden file at \(url.path): run with SHOAL_UPDATE_GOLDEN=1 to write it)"], unexpected: [], updated: false)
            return
        }
        let golden = text.split(separator: "\n").map(String.init)
        if golden == lines {
            self.init(missing: [], unexpected: [], updated: false)
            return
        }
        let goldenSet = Set(golden), replayedSet = Set(lines)
        var missing = golden.filter { !replayedSet.contains($0) }
        var unexpected = lines.filter { !goldenSet.contains($0) }
        if missing.isEmpty && unexpected.isEmpty {
            missing = ["(the same lines in another order)"]
            unexpected = missing
        }
        self.init(missing: missing, unexpected: unexpected, updated: false)
    }

    private init(missing: [String], unexpected: [String], updated: Bool) {
        self.missing = missing
        self.unexpected = unexpected
        self.updated = updated
    }

    public var description: String {
        if matches { return updated ? "golden file written" : "matches the golden file" }
        return "\(missing.count) golden lines missing, \(unexpected.count) unexpected; first missing: "
            + (missing.first ?? "-") + "; first unexpected: " + (unexpected.first ?? "-")
    }
}
