@testable import Shoal
import ShoalKafka
import Testing

@Suite("Checkpoint schedule")
struct CheckpointScheduleTests {
    private let partition = TopicPartition("orders", 3)

    @Test func aShardThatKeepsUpCommitsOnEveryTick() {
        var schedule = CheckpointSchedule(backlogInterval: .milliseconds(100), backlogThreshold: 500)
        let start = ContinuousClock.now
        schedule.started(partition, at: start)
        #expect(schedule.isDue(partition, buffered: 0, at: start + .milliseconds(10)))
        #expect(schedule.isDue(partition, buffered: 500, at: start + .milliseconds(10)), "at the threshold it still keeps up")
    }

    @Test func aShardThatIsBehindCommitsOncePerBacklogInterval() {
        var schedule = CheckpointSchedule(backlogInterval: .milliseconds(100), backlogThreshold: 500)
        let start = ContinuousClock.now
        #expect(schedule.isDue(partition, buffered: 2_000, at: start), "its first commit is not held back")
        schedule.started(partition, at: start)
        #expect(!schedule.isDue(partition, buffered: 2_000, at: start + .milliseconds(10)))
        #expect(!schedule.isDue(partition, buffered: 2_000, at: start + .milliseconds(99)))
        #expect(schedule.isDue(partition, buffered: 2_000, at: start + .milliseconds(100)))
        #expect(schedule.isDue(TopicPartition("orders", 4), buffered: 2_000, at: start + .milliseconds(10)), "each partition on its own")
    }

    @Test func aShardWhoseFileRefusedItsCommitRetriesOncePerBacklogInterval() {
        var schedule = CheckpointSchedule(backlogInterval: .milliseconds(100), backlogThreshold: 500)
        let start = ContinuousClock.now
        schedule.started(partition, at: start)
        #expect(!schedule.isDue(partition, buffered: 0, faulted: true, at: start + .milliseconds(10)))
        #expect(schedule.isDue(partition, buffered: 0, faulted: true, at: start + .milliseconds(100)))
    }

    @Test func aShardHasWorkToCommitOnlyWhenSomethingMovedSinceTheLastCommitTaken() {
        var state = ShardState()
        #expect(!state.hasWorkToCommit, "nothing applied yet")
        state.tracker.begin(7)
        state.tracker.complete(7)
        #expect(state.hasWorkToCommit, "the offset moved")
        _ = state.takeCheckpoint()
        #expect(!state.hasWorkToCommit, "the commit took it")
        state.tracker.begin(8)
        #expect(!state.hasWorkToCommit, "a record still running claims nothing")
        state.tracker.complete(8)
        #expect(state.hasWorkToCommit)
        let (taken, _) = state.takeCheckpoint()
        #expect(!state.hasWorkToCommit)
        // A commit that failed hands its rows and its offset back: the next one claims it.
        state.restoreFailedCheckpoint(taken)
        #expect(state.hasWorkToCommit, "a failed commit that only moved the offset is tried again")
    }

    @Test func anExpiryIsWorkFromTheFirstCommitPastItsEntitysLastRecord() {
        var pending = PendingCheckpoint()
        pending.expire(EntityID(type: "Counter", key: "k"), after: 4)
        #expect(!pending.hasWork(before: nil), "no committable offset: deferred")
        #expect(!pending.hasWork(before: 4), "a commit up to offset 4 leaves record 4 to a redo")
        #expect(pending.hasWork(before: 5))
    }

    @Test func partitionsNoLongerOwnedAreForgotten() {
        var schedule = CheckpointSchedule(backlogInterval: .milliseconds(100), backlogThreshold: 500)
        let start = ContinuousClock.now
        let other = TopicPartition("orders", 5)
        schedule.started(partition, at: start)
        schedule.started(other, at: start)
        schedule.keep(only: [partition, other])
        #expect(schedule.remembered == 2)
        schedule.keep(only: [other])
        #expect(schedule.remembered == 1)
        #expect(schedule.isDue(partition, buffered: 2_000, at: start + .milliseconds(10)), "owned again: nothing remembered of it")
        #expect(!schedule.isDue(other, buffered: 2_000, at: start + .milliseconds(10)))
    }

    @Test func anExpiryTheCommitWouldDeferIsNoWorkUntilTheOffsetPassesIt() {
        var state = ShardState()
        let id = EntityID(type: "Counter", key: "k")
        state.pending.expire(id, after: 4)
        #expect(!state.hasWorkToCommit, "no record taken since the start: the expiry waits")
        state.tracker.begin(4)
        state.tracker.complete(4)
        #expect(state.pending.hasWork(before: state.tracker.committable), "the offset passed the entity's last record")
        let (taken, _) = state.takeCheckpoint()
        #expect(taken.expired[id] == 4 && !state.hasWorkToCommit)
        state.pending.expire(EntityID(type: "Counter", key: "later"), after: 9)
        #expect(!state.hasWorkToCommit, "past the committable offset: deferred again")
        state.pending.expire(EntityID(type: "Counter", key: "earlier"), after: 3)
        #expect(state.hasWorkToCommit, "one deferred, one committable: the commit has work")
        state.pending.expire(EntityID(type: "Counter", key: "earlier"), after: 9)
        state.pending.timers[EntityID(type: "Counter", key: "other")] = []
        #expect(state.hasWorkToCommit, "another entity's timers are work")
    }

    @Test func theBacklogIntervalIsNeverShorterThanTheCheckpointInterval() {
        let store = ShoalNodeConfiguration.Store(checkpointInterval: .milliseconds(200), backlogCheckpointInterval: .milliseconds(50))
        #expect(store.backlogCheckpointInterval == .milliseconds(200))
        #expect(ShoalNodeConfiguration.Store().checkpointInterval == .milliseconds(10))
    }
}
