import Shoal
import ArgumentParser

/// The command group every Shoal application embeds, so that all of them
/// answer the same verbs (see the operator's contract in the docs). An
/// application runs it through `ShoalApplicationMain.run(_:)`:
///
/// ```swift
/// @main
/// struct App {
///     static func main() async { await ShoalApplicationMain.run(Fraud.self) }
/// }
/// ```
@available(macOS 10.15, macCatalyst 13, iOS 13, tvOS 13, watchOS 6, *)
public struct ShoalCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "shoal",
        abstract: "Real-time, stateful stream processing on Kafka.",
        subcommands: [NodeCommand.self, StateCommand.self, GetCommand.self, EraseCommand.self, ReplayCommand.self, TopicsCommand.self, BrokerCommand.self, ProduceCommand.self, DemoCommand.self, StreamDemoCommand.self]
    )

    public init() {}
}
