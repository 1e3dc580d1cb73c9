import Shoal
import ArgumentParser
import ShoalKafka

/// `APP topics`: the topics the application reads and writes, ready for
/// `shoal broker --topic`.
struct TopicsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Print the topics the application reads and writes, one NAME:PARTITIONS[:CONFIG=VALUE] a line."
    )

    @Option(help: "The nodes' consumer group: adds its changelog topic (<group>-state, compacted on a real cluster), its members topic and a repartition topic per entity type (<group>-<topic>-repartition).")
    var group: String?

    func run() throws {
        let application = try ShoalApplicationMain.application(for: "topics")
        for topic in application.deploymentTopics(group: group) {
            print(topic)
        }
    }
}
