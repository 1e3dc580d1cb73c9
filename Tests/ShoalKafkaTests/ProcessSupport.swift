import Foundation
import Testing

/// A child process of the test, with its standard output in a file.
final class ChildProcess: Sendable {
    let process: Process
    let outputURL: URL

    init(executable: String, arguments: [String], directory: URL, name: String) throws {
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent(executable)
        process.arguments = arguments
        outputURL = directory.appendingPathComponent("\(name).stdout")
        FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }

    func terminate() {
        if process.isRunning { process.terminate() }
    }

    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }

    /// Waits for the process to exit, at most `timeout`; returns its status.
    func waitForExit(timeout: Duration = .seconds(60)) async -> Int32? {
        let exited = await eventually(timeout: timeout) { !process.isRunning }
        return exited ? process.terminationStatus : nil
    }

    deinit {
        kill()
    }
}

/// A fresh temporary folder per test.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("shoal-test"))
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Lines of a file that are complete (end with a newline).
func completeLines(of url: URL) -> [Substring] {
    let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    guard let lastNewline = text.lastIndex(of: "\n") else { return [] }
    return text[..<lastNewline].split(separator: "\n")
}
