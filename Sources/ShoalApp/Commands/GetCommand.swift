import Shoal
import ArgumentParser
import Foundation

/// `APP get --brokers ADDR --group G --entity TYPE --key K`: the key's live
/// state, read from the node that owns it, as one JSON line in the format
/// of `APP state`.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print an entity's live state, read from the node that owns its key, as one JSON line (the format of `state`)."
    )

    @Option(help: "Bootstrap address of the Kafka cluster (host:port[,host:port...]).")
    var brokers: String

    @Option(help: "The nodes' consumer group.")
    var group: String

    @Option(help: "The entity type.")
    var entity: String

    @Option(help: "The entity's key.")
    var key: String

    @OptionGroup var calls: CallOptions

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let application = try ShoalApplicationMain.application(for: "get")
        guard let secret = try calls.secret() else {
            throw ValidationError("get needs the group's call secret: --call-secret-file FILE or \(CallSecret.environmentVariable)")
        }
        guard application.topology.entityTypes.contains(entity) else {
            throw ValidationError("--entity \(entity): the application has no such entity type (it has \(application.topology.entityTypes.sorted().joined(separator: ", ")))")
        }
        let client = try ShoalClient(
            configuration: .init(
                brokers: brokers.split(separator: ",").map(String.init), group: group, secret: secret,
                timeout: .milliseconds(calls.callTimeoutMs)
            ),
            topology: application.topology, logger: try logging.makeLogger(label: "shoal.get")
        )
        let id = EntityID(type: entity, key: key)
        guard let state = try await client.withRunning({ try await client.actorSystem.state(of: id) }) else {
            FileHandle.standardError.write(Data("shoal: \(id) has no state\n".utf8))
            throw ExitCode(1)
        }
        print(try StateCommand.line(state))
    }
}
