import ShoalKafka

extension EmbeddedBroker {
    /// Creates the changelog topic of `group` with `partitions` partitions
    /// (as many as the group's input topics), and its members topic (one
    /// partition, for standbys). The embedded broker has no admin API for
    /// nodes to call, and never compacts; see
    /// ``ShoalNodeConfiguration/Changelog/imageThreshold``.
    public func createChangelog(group: String, partitions: Int32) throws(KafkaError) {
        try createTopic(ShoalNodeConfiguration.changelogTopic(group: group), partitions: partitions)
        try createTopic(ShoalNodeConfiguration.membersTopic(group: group), partitions: 1)
    }
}
