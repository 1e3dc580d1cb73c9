import Shoal
import ArgumentParser
import Foundation

/// `APP erase --brokers ADDR --group G --entity TYPE --key K`: erases the
/// key's entity everywhere the runtime keeps it, through the node that
/// owns it, while the nodes run (see ``ShoalActorSystem/erase(_:requester:)``).
struct EraseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase an entity (right to erasure): its state, timers, journal and outputs, from its owner's file, the changelog and standby copies.",
        discussion: """
            The owner logs an audit line (who asked, what kind of rows and how many, never the data). Records already \
            in Kafka topics are beyond an erase: their retention is the operator's.
            """
    )

    @OptionGroup var target: EntityOptions

    @Option(help: "Who asks, for the audit line (default: the user and host running the command).")
    var requester: String?

    @OptionGroup var calls: CallOptions

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let client = try calls.client(for: "erase", target: target, logging: logging)
        let id = target.id
        let requester = requester ?? "\(ProcessInfo.processInfo.userName)@\(ProcessInfo.processInfo.hostName)"
        try await client.withRunning { try await client.actorSystem.erase(id, requester: requester) }
        let line = try JSONSerialization.data(withJSONObject: ["erased": ["entity": id.type, "key": id.key], "requester": requester], options: [.sortedKeys])
        print(String(decoding: line, as: UTF8.self))
    }
}
