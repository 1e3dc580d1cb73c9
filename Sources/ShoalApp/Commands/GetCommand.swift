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

    @OptionGroup var target: EntityOptions

    @OptionGroup var calls: CallOptions

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let client = try calls.client(for: "get", target: target, logging: logging)
        let id = target.id
        guard let state = try await client.withRunning({ try await client.actorSystem.state(of: id) }) else {
            FileHandle.standardError.write(Data("shoal: \(id) has no state\n".utf8))
            throw ExitCode(1)
        }
        print(try StateCommand.line(state))
    }
}
