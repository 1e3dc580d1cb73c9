import Foundation

/// A child process of the test, with its standard output in a file.
public final class ChildProcess: Sendable {
    public let process: Process
    public let outputURL: URL
    public let errorURL: URL

    public init(executable: String, arguments: [String], directory: URL, name: String, environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent(executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        outputURL = directory.appendingPathComponent("\(name).stdout")
        FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        errorURL = directory.appendingPathComponent("\(name).stderr")
        FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errorURL)
        try process.run()
        self.process = process
    }

    public var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }

    /// What the process logged.
    public var errors: String { (try? String(contentsOf: errorURL, encoding: .utf8)) ?? "" }

    public func terminate() {
        if process.isRunning { process.terminate() }
    }

    public func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }

    /// Waits for the process to exit, at most `timeout`; returns its status.
    public func waitForExit(timeout: Duration = .seconds(60)) async -> Int32? {
        let exited = await eventually(timeout: timeout) { !process.isRunning }
        return exited ? process.terminationStatus : nil
    }

    deinit {
        kill()
    }
}

/// A fresh temporary folder per test.
public func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("shoal-test"))
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Lines of a file that are complete (end with a newline).
public func completeLines(of url: URL) -> [Substring] {
    let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    guard let lastNewline = text.lastIndex(of: "\n") else { return [] }
    return text[..<lastNewline].split(separator: "\n")
}
