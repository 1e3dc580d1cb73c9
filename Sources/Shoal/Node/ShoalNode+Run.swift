import Foundation
import Logging
import ServiceLifecycle
import ShoalKafka
import Synchronization

extension ShoalNode {
    /// Runs the node until graceful shutdown (SIGTERM/SIGINT in a
    /// `ServiceGroup`) or cancellation, then hands its partitions off.
    public func run() async throws {
        let routes = try validatedRoutes()
        let topology = state.withLock { $0.topology }
        let directoryLock = try DataDirectoryLock(
            directory: configuration.storeDirectory, exclusive: configuration.changelog.enabled && configuration.changelog.standbys > 0
        )
        defer { withExtendedLifetime(directoryLock) {} }
        let producer = try KafkaProducer(configuration: .init(client: configuration.client, linger: configuration.outputLinger), logger: logger)
        let topicCounts = try await producer.awaitConnection(timeout: configuration.client.connectionTimeout).topics
        try topology.coPartitioning.check(partitionCounts: topicCounts)
        let placement = checkedPlacement(topology, topics: topicCounts)
        let coPartitioning = topology.coPartitioning.adding(repartitionTopics: placement.repartitionTopics)
        let tables = try await loadedTables(topology, topics: topicCounts)
        let changelog = try checkedChangelog(routes: routes, topics: topicCounts)
        var consumerConfiguration = consumerConfiguration(topics: coPartitioning.subscribed)
        consumerConfiguration.followers = coPartitioning.followers
        let consumer = try KafkaConsumer(configuration: consumerConfiguration, listener: NodeRebalanceListener(node: self), logger: logger)
        let services = ShardServices(
            system: actorSystem, producer: producer,
            deadLetters: DeadLetters(topic: configuration.deadLetterTopic, producer: producer, logger: logger),
            configuration: configuration, logger: logger, routes: routes, coPartitioning: coPartitioning,
            setPaused: { [metrics] partition, paused in
                let inputs = coPartitioning.inputs(of: partition)
                if paused { consumer.pause(inputs) } else { consumer.resume(inputs) }
                if paused { metrics.pausedPartitions.increment() } else { metrics.pausedPartitions.decrement() }
            },
            metrics: metrics, changelog: changelog, placement: placement, tables: tables?.0 ?? NoTables(),
            inputLag: { consumer.lag(of: $0) }, inputNext: { consumer.nextOffset(of: $0) },
            tracing: RecordTracing.active(configuration.tracer)
        )
        let calls = try NodeCalls.configured(for: self)
        let board = try checkedBoard(topics: topicCounts, calls: calls != nil)
        let standbys = try checkedStandbys(leads: coPartitioning.subscribed, topics: topicCounts, changelog: changelog, board: board)
        state.withLock {
            $0.consumer = consumer
            $0.services = services
            $0.standbys = standbys
            $0.board = board
            $0.keyPartitions = KeyPartitions(topology: topology, missingTopic: .notOwned) {
                try await consumer.awaitConnection(timeout: .seconds(10)).topics
            }
            $0.running = true
        }
        actorSystem.install(callDispatch(board: board, clients: calls?.clients))
        logger.info("Node starting", metadata: ["group": "\(configuration.group)", "topics": "\(routes.keys.sorted())"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The producer outlives the consumer: handing partitions off
            // still publishes outputs. It stops once the consumer is done.
            group.addTask { try await producer.runUntilTriggered() }
            group.addTask {
                defer {
                    self.state.withLock { $0.running = false }
                    producer.triggerShutdown()
                }
                // Calls to its partitions go elsewhere once they are handed
                // off; the server stops after the hand-off.
                defer { calls?.stop() }
                try await consumer.run()
                await board?.leave(producer, consumer)
            }
            group.addTask { await self.read(consumer) }
            group.addTask { await self.maintain(consumer) }
            group.addTask { await self.checkpoint() }
            if let (tables, reader) = tables {
                group.addTask {
                    await tables.follow(reader, interval: .milliseconds(100)) { self.state.withLock { $0.running } }
                }
            }
            if let board {
                group.addTask { await board.run(producer: producer, consumer: consumer) }
                if let calls {
                    group.addTask { try await calls.run(board: board, logger: self.logger) }
                }
            }
            if let standbys {
                group.addTask { await standbys.run() }
            }
            try await group.waitForAll()
        }
        // Release the Kafka handles now rather than with the node.
        restoreReaders.removeAll()
        state.withLock {
            $0.running = false
            $0.consumer = nil
            $0.services = nil
            $0.standbys = nil
            $0.board = nil
            $0.keyPartitions = nil
        }
        logger.info("Node stopped", metadata: ["group": "\(configuration.group)"])
    }

    /// The changelog target, after checking that its topic exists with as
    /// many partitions as the input topics; nil when replication is off.
    private func checkedChangelog(routes: [String: Route], topics: [String: Int]) throws -> ChangelogTarget? {
        guard configuration.changelog.enabled else { return nil }
        let topic = configuration.changelogTopic
        let inputs = routes.keys.sorted().map { ($0, topics[$0]) }
        let needed = inputs.compactMap(\.1).max() ?? 0
        let missing = inputs.filter { $0.1 == nil }.map(\.0)
        guard needed > 0 || missing.isEmpty else {
            throw ChangelogError(
                code: .topic,
                reason: "the input topics \(missing.joined(separator: ", ")) do not exist, so the changelog topic \(topic) cannot be checked against them: create the application's topics first (`APP topics --group \(configuration.group)` lists them with their partitions)"
            )
        }
        guard let partitions = topics[topic] else {
            throw ChangelogError(
                code: .topic,
                reason: "the changelog topic \(topic) does not exist: create it with \(needed) partitions and cleanup.policy=compact (`APP topics --group \(configuration.group)` lists it), or turn replication off"
            )
        }
        guard partitions == needed else {
            let counts = inputs.map { "\($0.0): \($0.1.map(String.init) ?? "missing")" }.joined(separator: ", ")
            throw ChangelogError(
                code: .topic,
                reason: "the changelog topic \(topic) has \(partitions) partitions, the input topics \(needed) (\(counts)): they must match"
            )
        }
        return ChangelogTarget(topic: topic, group: configuration.group, imageThreshold: configuration.changelog.imageThreshold)
    }

    /// Where the topology's keys belong in the cluster's topics; a missing
    /// repartition topic is an error logged now, and each record it would
    /// have forwarded a dead letter that names it.
    private func checkedPlacement(_ topology: Topology, topics: [String: Int]) -> ShardPlacement {
        let placement = ShardPlacement(topology: topology, group: configuration.group, counts: topics)
        for problem in placement.repartitionProblems {
            logger.error(
                "Repartition topic unusable: records found in another partition than their key's will be dead-lettered, not forwarded",
                metadata: ["problem": "\(problem)", "hint": "`APP topics --group \(configuration.group)` lists it"]
            )
        }
        return placement
    }

    /// The announcer on the members topic when the node keeps standbys or
    /// serves calls, after checking that the topic exists.
    private func checkedBoard(topics: [String: Int], calls: Bool) throws -> MembersBoard? {
        let standbys = configuration.changelog.enabled && configuration.changelog.standbys > 0
        guard standbys || calls else { return nil }
        guard topics[configuration.membersTopic] != nil else {
            let needs = [standbys ? "standbys" : nil, calls ? "calls between nodes" : nil].compactMap { $0 }.joined(separator: " and ")
            throw ChangelogError(
                code: .topic,
                reason: "the members topic \(configuration.membersTopic) does not exist: \(needs) need it (1 partition, cleanup.policy=compact; `APP topics --group \(configuration.group)` lists it)"
            )
        }
        return MembersBoard(node: self)
    }

    /// The standby keeper when the node keeps standbys.
    private func checkedStandbys(
        leads: [String], topics: [String: Int], changelog: ChangelogTarget?, board: MembersBoard?
    ) throws -> StandbyReplicas? {
        guard let changelog, configuration.changelog.standbys > 0, let board else { return nil }
        logger.info("Keeping standby copies", metadata: ["standbys": "\(configuration.changelog.standbys)", "changelog": "\(changelog.topic)"])
        // Copies are of shards' files, which their lead topics name.
        let counts = leads.compactMap { topic in topics[topic].map { (topic, Int32($0)) } }
        return StandbyReplicas(node: self, topics: Dictionary(uniqueKeysWithValues: counts), board: board)
    }

    func consumerConfiguration(topics: [String]) -> KafkaConsumerConfiguration {
        KafkaConsumerConfiguration(
            client: configuration.client, groupID: configuration.group, topics: topics,
            sessionTimeout: configuration.sessionTimeout,
            heartbeatInterval: max(.milliseconds(500), configuration.sessionTimeout / 10),
            fetch: configuration.fetch
        )
    }

    /// Hands each batch's records to the shard of their partition.
    private func read(_ consumer: KafkaConsumer) async {
        guard let coPartitioning = state.withLock({ $0.services?.coPartitioning }) else { return }
        for await batch in consumer.records {
            // A shard fed by several topics merges theirs by event time
            // (ShardAligner); its journal records the order it took.
            var byPartition: [TopicPartition: [KafkaRecord]] = [:]
            for record in batch { byPartition[coPartitioning.shard(of: record.topicPartition), default: []].append(record) }
            let shards = state.withLock { $0.shards }
            for (partition, records) in byPartition {
                shards[partition]?.accept(records)
            }
        }
    }

    /// Commits each shard's applied records to its file, periodically, and
    /// fires the processing-time timers that fell due. Each shard commits
    /// on its own: one whose commit is still running is skipped until it is
    /// done, and the others go on (visiting the shards in turn held every
    /// shard behind a slow commit). Commits block a thread in SQLite, so
    /// fewer write at once than there are cores (see ``CommitPermits``). A
    /// shard that is behind commits less often (see `backlogCheckpointInterval`).
    private func checkpoint() async {
        let permits = CommitPermits(limit: ProcessInfo.processInfo.activeProcessorCount - 1)
        var schedule = CheckpointSchedule(configuration: configuration)
        await withDiscardingTaskGroup { group in
            while state.withLock({ $0.running }) {
                do { try await Task.sleep(for: configuration.store.checkpointInterval) } catch { return }
                let now = ContinuousClock.now
                let shards = state.withLock { Array($0.shards.values) }
                schedule.keep(only: shards.lazy.map(\.partition))  // mapped only when it prunes
                for shard in shards {
                    shard.wakeDueTimers(at: shard.currentClocks)
                    let id = ObjectIdentifier(shard)
                    guard schedule.isDue(shard, at: now), permits.schedule(id) else { continue }
                    schedule.started(shard.partition, at: now)
                    group.addTask { [metrics] in
                        // Timed from the permit (always taken): the commit's own work.
                        let started = Mutex(ContinuousClock.now)
                        await shard.checkpoint(
                            acquire: {
                                await permits.acquire(for: id)
                                started.withLock { $0 = .now }
                            },
                            written: { permits.release(id) }
                        )
                        metrics.checkpointDuration.record(ContinuousClock.now - started.withLock { $0 })
                        permits.end(id)
                    }
                }
            }
        }
    }

    /// Commits the files' offsets to Kafka (for monitoring and for tools;
    /// the files decide where a shard starts) and passivates idle entities.
    private func maintain(_ consumer: KafkaConsumer) async {
        var staleFiles = staleFileSweeping()
        while state.withLock({ $0.running }) {
            do { try await Task.sleep(for: configuration.maintenanceInterval) } catch { return }
            staleFiles?.sweepWhenDue()
            let shards = state.withLock { Array($0.shards.values) }
            await commitProcessed(consumer, only: await movedOffsets(shards))
            let keep = configuration.passivation.maxResidentEntities / max(1, shards.count)
            for shard in shards {
                shard.sweep(idleTimeout: configuration.passivation.idleTimeout, keep: keep)
                await shard.persistence.trimJournal(keeping: configuration.store.journalRetention)
            }
            recordGauges(consumer, shards)
        }
    }

    /// The sweep of standby copies no process uses, when the changelog is
    /// on and the configuration deletes them.
    private func staleFileSweeping() -> ScheduledSweep? {
        guard configuration.changelog.enabled, let configured = configuration.store.staleFileDelay else { return nil }
        // A file let go of a moment ago (a rebalance) is not stale.
        let delay = max(configured, .seconds(1))
        let sweep = StaleFileSweep(directory: configuration.storeDirectory, delay: delay, logger: logger)
        return ScheduledSweep(sweep: sweep, every: min(delay / 2, .seconds(60)))
    }

    private func recordGauges(_ consumer: KafkaConsumer, _ shards: [Shard]) {
        let lag = consumer.lag()
        metrics.lag.record(lag.values.reduce(0, +))
        for (partition, records) in lag { metrics.lag(of: partition).record(records) }
        for shard in shards { metrics.buffered(in: shard.partition).record(shard.bufferedCount) }
    }

    /// Every input partition's committed file offset that moved since the
    /// last Kafka commit.
    private func movedOffsets(_ shards: [Shard]) async -> [TopicPartition: Int64] {
        var moved: [TopicPartition: Int64] = [:]
        let committed = state.withLock { $0.committed }
        for shard in shards {
            for (partition, next) in await shard.persistence.committedInputs where next != committed[partition] {
                moved[partition] = next
            }
        }
        return moved
    }

    /// Commits `offsets` now: periodically, and at a hand-off (the next
    /// owner starts from them).
    func commitProcessed(_ consumer: KafkaConsumer, only offsets: [TopicPartition: Int64]) async {
        guard !offsets.isEmpty else { return }
        do {
            try await consumer.commit(offsets)
            state.withLock { $0.committed.merge(offsets) { $1 } }
        } catch {
            logger.warning("Offset commit failed; will retry", metadata: ["error": "\(error)"])
        }
    }
}
