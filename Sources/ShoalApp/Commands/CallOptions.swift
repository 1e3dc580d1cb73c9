import Shoal
import ArgumentParser

/// The options of commands that send entity calls (`node`, `get`).
struct CallOptions: ParsableArguments {
    @Option(help: "File holding the group's call secret (at least 16 bytes); or set SHOAL_CALL_SECRET.")
    var callSecretFile: String?

    @Option(help: "How long a call may take, moves of its key's partition included, in milliseconds.")
    var callTimeoutMs = 10_000

    func validate() throws {
        guard callTimeoutMs >= 1 else { throw ValidationError("--call-timeout-ms must be at least 1, not \(callTimeoutMs)") }
    }

    /// The secret from the file, else from the environment; nil when neither is set.
    func secret() throws -> CallSecret? {
        do {
            if let callSecretFile { return try CallSecret(contentsOf: callSecretFile) }
            return try CallSecret.fromEnvironment()
        } catch let error as ShoalError {
            throw ValidationError(error.reason)
        }
    }
}
