import Shoal
import ArgumentParser
import Logging
import Synchronization

/// `--log-level`, shared by every command. Logs go to standard error so
/// that standard output stays machine-readable.
public struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error or critical.")
    public var logLevel: String = "info"

    public init() {}

    /// Sets up swift-log once per process and returns a logger for `label`.
    public func makeLogger(label: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; not \"\(logLevel)\"")
        }
        Self.bootstrapOnce(level: level)
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }

    private static let bootstrapped = Mutex(false)

    private static func bootstrapOnce(level: Logger.Level) {
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
