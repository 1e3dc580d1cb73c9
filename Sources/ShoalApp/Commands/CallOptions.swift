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

extension CallOptions {
    /// A client of the group's nodes for `command`, after checking that the
    /// application has the entity type.
    func client(for command: String, target: EntityOptions, logging: LoggingOptions) throws -> ShoalClient {
        let (brokers, group, entity) = (target.brokers, target.group, target.entity)
        let application = try ShoalApplicationMain.application(for: command)
        guard let secret = try secret() else {
            throw ValidationError("\(command) needs the group's call secret: --call-secret-file FILE or \(CallSecret.environmentVariable)")
        }
        guard application.topology.entityTypes.contains(entity) else {
            throw ValidationError("--entity \(entity): the application has no such entity type (it has \(application.topology.entityTypes.sorted().joined(separator: ", ")))")
        }
        return try ShoalClient(
            configuration: .init(
                brokers: brokers.split(separator: ",").map(String.init), group: group, secret: secret, timeout: .milliseconds(callTimeoutMs)
            ),
            topology: application.topology, logger: try logging.makeLogger(label: "shoal.\(command)")
        )
    }
}

/// The options of commands that reach one entity through its owner (`get`, `erase`).
struct EntityOptions: ParsableArguments {
    @Option(help: "Bootstrap address of the Kafka cluster (host:port[,host:port...]).")
    var brokers: String

    @Option(help: "The nodes' consumer group.")
    var group: String

    @Option(help: "The entity type.")
    var entity: String

    @Option(help: "The entity's key.")
    var key: String

    var id: EntityID { EntityID(type: entity, key: key) }
}
