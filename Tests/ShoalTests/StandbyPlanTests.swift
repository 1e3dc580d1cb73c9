@testable import Shoal
import Testing

@Suite("Standby plan")
struct StandbyPlanTests {
    let members = [
        NodeAnnouncement(node: "a", member: "m-1", partitions: [0, 1, 2], assigned: 3),
        NodeAnnouncement(node: "b", member: "m-2", partitions: [3, 4, 5], assigned: 3),
        NodeAnnouncement(node: "c", member: "m-3", partitions: [6, 7], assigned: 2),
    ]

    @Test func theFirstStandbyIsWhereTheAssignorWouldMoveThePartition() {
        let plan = StandbyPlan(members: members, partitionCount: 8, standbys: 1)
        // b fails: c has fewest (2) and takes 3; then a and c tie at 3 and
        // the smaller member id (a's) takes 4; then c takes 5.
        #expect(plan.holders(of: 3) == ["c"])
        #expect(plan.holders(of: 4) == ["a"])
        #expect(plan.holders(of: 5) == ["c"])
        #expect(plan.partitions(for: "c").isSuperset(of: [3, 5]))
    }

    @Test func everyPartitionHasItsCopiesOnNodesOtherThanItsOwner() {
        for standbys in 1...2 {
            let plan = StandbyPlan(members: members, partitionCount: 8, standbys: standbys)
            for partition: Int32 in 0..<8 {
                let holders = plan.holders(of: partition)
                let owner = members.first { $0.partitions.contains(partition) }!.node
                #expect(holders.count == standbys)
                #expect(!holders.contains(owner))
                #expect(Set(holders).count == holders.count)
            }
        }
        #expect(StandbyPlan(members: members, partitionCount: 8, standbys: 0).partitions(for: "a").isEmpty)
    }

    @Test func unownedPartitionsStillGetCopies() {
        let plan = StandbyPlan(members: [NodeAnnouncement(node: "a", member: nil, partitions: [], assigned: 0)], partitionCount: 4, standbys: 1)
        #expect(plan.partitions(for: "a") == [0, 1, 2, 3])
    }
}
