import Foundation
import Logging
import ShoalKafka
import Synchronization

/// A logger that keeps test output quiet unless `SHOAL_TEST_DEBUG` is set.
public let testLogger: Logger = {
    var logger = Logger(label: "shoal.tests")
    logger.logLevel = ProcessInfo.processInfo.environment["SHOAL_TEST_DEBUG"] == nil ? .warning : .debug
    return logger
}()

/// A unique name per test, so tests that run in parallel never share a group.
/// The package's root folder (this file is Tests/TestSupport/TestSupport.swift).
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

public func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8))"
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
public func eventually(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        do { try await Task.sleep(for: .milliseconds(50)) } catch { break }
    }
    return try await condition()
}

/// The folder holding the built executables (next to the test bundle).
public let productsDirectory: URL = {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var directory = executable.deletingLastPathComponent()
    while directory.path != "/" {
        if FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("shoal").path) {
            return directory
        }
        directory = directory.deletingLastPathComponent()
    }
    return executable.deletingLastPathComponent()
}()
