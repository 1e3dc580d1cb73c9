import ArgumentParser
import ShoalKafka

/// `APP topics`: the topics the application reads and writes, ready for
/// `shoal broker --topic`.
struct TopicsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Print the topics the application reads and writes, one NAME:PARTITIONS a line."
    )

    func run() throws {
        let application = try ShoalApplicationMain.application(for: "topics")
        var topics = application.topics
        let deadLetters = ShoalNodeConfiguration.defaultDeadLetterTopic
        if !topics.contains(where: { $0.name == deadLetters }) {
            topics.append(.init(name: deadLetters, partitions: 1))
        }
        for topic in topics {
            print("\(topic.name):\(topic.partitions)")
        }
    }
}
