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
        let client = try calls.client(for: "get", brokers: brokers, group: group, entity: entity, logging: logging)
        let id = EntityID(type: entity, key: key)
        guard let state = try await client.withRunning({ try await client.actorSystem.state(of: id) }) else {
            FileHandle.standardError.write(Data("shoal: \(id) has no state\n".utf8))
            throw ExitCode(1)
        }
        print(try StateCommand.line(state))
    }
}
