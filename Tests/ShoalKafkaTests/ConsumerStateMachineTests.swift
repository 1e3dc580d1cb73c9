@testable import ShoalKafka
import Testing

@Suite("Consumer state machine")
struct ConsumerStateMachineTests {
    let p0 = TopicPartition("t", 0)
    let p1 = TopicPartition("t", 1)

    @Test func pauseIsReappliedOnEveryAssignment() {
        var machine = ConsumerStateMachine()
        #expect(machine.pause([p0]).pause.isEmpty, "nothing assigned yet: nothing to pause now")
        #expect(machine.didAssign([p0: 0, p1: 0]).pause == [p0])
        machine.didRevoke([p0, p1])
        #expect(machine.didAssign([p0: 5]).pause == [p0], "a partition that comes back is paused again")
        #expect(machine.resume([p0]).resume == [p0])
        machine.didRevoke([p0])
        #expect(machine.didAssign([p0: 5]).pause.isEmpty)
    }

    @Test func flowControlPausesAtTheHighWatermarkAndResumesBelowTheLow() {
        var machine = ConsumerStateMachine()
        _ = machine.didAssign([p0: 0, p1: 0])
        _ = machine.pause([p1])
        #expect(machine.applyFlowControl(buffered: 99, high: 100, low: 10) == .init())
        #expect(machine.applyFlowControl(buffered: 100, high: 100, low: 10).pause == [p0])
        #expect(machine.applyFlowControl(buffered: 50, high: 100, low: 10) == .init(), "between watermarks: no change")
        #expect(machine.resume([p1]).resume.isEmpty, "still paused for flow")
        #expect(machine.didAssign([TopicPartition("t", 2): 0]).pause == [TopicPartition("t", 2)])
        let resumed = machine.applyFlowControl(buffered: 10, high: 100, low: 10).resume
        #expect(resumed == [p0, p1, TopicPartition("t", 2)])
    }

    /// librdkafka 2.0 re-reads records when a running partition is resumed:
    /// repeated requests must not reach it.
    @Test func onlyRealTransitionsReachLibrdkafka() {
        var machine = ConsumerStateMachine()
        _ = machine.didAssign([p0: 0, p1: 0])
        #expect(machine.pause([p0]).pause == [p0])
        #expect(machine.pause([p0]) == .init(), "already paused")
        #expect(machine.resume([p0]).resume == [p0])
        #expect(machine.resume([p0]) == .init(), "already running")
        #expect(machine.resume([p1]) == .init(), "never paused")
        _ = machine.pause([p1])
        #expect(machine.applyFlowControl(buffered: 100, high: 100, low: 10).pause == [p0], "p1 is paused already")
        #expect(machine.resume([p1]) == .init(), "still paused for flow")
        #expect(machine.applyFlowControl(buffered: 0, high: 100, low: 10).resume == [p0, p1])
        #expect(machine.paused.isEmpty)
    }

    @Test func positionsFollowHandedOutRecordsOfOwnedPartitionsOnly() {
        var machine = ConsumerStateMachine()
        _ = machine.didAssign([p0: 3])
        machine.advance(p0, to: 10)
        machine.advance(p1, to: 7)
        #expect(machine.positions == [p0: 10])
        machine.didRevoke([p0])
        #expect(machine.positions.isEmpty)
    }

    @Test func commitsWaitFromARefusalOrARevocationUntilTheRebalanceEnds() {
        let start = ContinuousClock.now
        let limit = Duration.seconds(300)
        var progress = RebalanceProgress()
        #expect(progress.mayCommit(limit: limit, now: start))
        progress.refused(at: start)
        #expect(!progress.mayCommit(limit: limit, now: start))
        progress.inCallback = true
        #expect(progress.mayCommit(limit: limit, now: start), "the hooks commit during the callback")
        progress.inCallback = false
        progress.didAssign()
        #expect(progress.mayCommit(limit: limit, now: start))

        // A cooperative revocation: librdkafka assigns right away, then rejoins.
        progress.didRevoke(cooperative: true, lost: false, at: start)
        progress.didAssign()
        #expect(!progress.mayCommit(limit: limit, now: start), "the rejoin is still to come")
        progress.didAssign()
        #expect(progress.mayCommit(limit: limit, now: start))

        // Lost or eager: the next assignment ends it.
        progress.didRevoke(cooperative: true, lost: true, at: start)
        #expect(!progress.mayCommit(limit: limit, now: start))
        #expect(progress.mayCommit(limit: limit, now: start + .seconds(301)), "a wait ends after the rebalance timeout")
        progress.didAssign()
        #expect(progress.mayCommit(limit: limit, now: start))
    }

    @Test func withTheJoinStateCommitsGoOnlyWhileSteady() {
        var progress = RebalanceProgress()
        let limit = Duration.seconds(300)
        progress.joinState = "steady"
        #expect(progress.mayCommit(limit: limit))
        progress.joinState = "wait-join"
        #expect(!progress.mayCommit(limit: limit), "librdkafka is rejoining: the generation is about to change")
        progress.inCallback = true
        #expect(progress.mayCommit(limit: limit))
        progress.inCallback = false
        progress.joinState = "steady"
        #expect(progress.mayCommit(limit: limit))
    }
}
