/// Which partitions each node keeps warm copies of, derived by every node
/// alike from the members' announcements: no coordinator decides it.
///
/// A partition's first standby is the node the group's assignor would give
/// it to if its owner failed, so that a failover lands where the copy is.
/// The prediction follows the cooperative-sticky assignor: the failed
/// member's partitions go, in partition order, to the member with the
/// fewest (ties to the smaller member id). Further standbys (and the first,
/// when the owner is unknown) are ranked by rendezvous hashing, which moves
/// few copies when members come and go.
struct StandbyPlan: Sendable {
    let members: [NodeAnnouncement]
    let partitionCount: Int32
    let standbys: Int

    /// The partitions `node` keeps copies of (never those it owns).
    func partitions(for node: String) -> Set<Int32> {
        guard standbys > 0 else { return [] }
        var chosen: Set<Int32> = []
        for partition in 0..<partitionCount where holders(of: partition).contains(node) {
            chosen.insert(partition)
        }
        return chosen
    }

    /// The nodes that keep copies of `partition`, first standby first.
    func holders(of partition: Int32) -> [String] {
        let owner = members.first { $0.partitions.contains(partition) }
        let others = members.filter { $0.node != owner?.node }
        var ranked: [String] = []
        if let owner, let heir = heir(of: partition, ownedBy: owner) { ranked.append(heir) }
        let byHash = others.map(\.node).sorted { rank($0, partition) > rank($1, partition) }
        ranked += byHash.filter { !ranked.contains($0) }
        return Array(ranked.prefix(standbys))
    }

    /// The member predicted to receive `partition` if `owner` failed.
    func heir(of partition: Int32, ownedBy owner: NodeAnnouncement) -> String? {
        var survivors = members.filter { $0.node != owner.node && $0.member != nil }.map { ($0.node, $0.member!, $0.assigned) }
        for orphan in owner.partitions.sorted() {
            guard let index = survivors.indices.min(by: { (survivors[$0].2, survivors[$0].1) < (survivors[$1].2, survivors[$1].1) }) else {
                return nil
            }
            if orphan == partition { return survivors[index].0 }
            survivors[index].2 += 1
        }
        return nil
    }

    /// Rendezvous weight of a node for a partition (FNV-1a: stable across
    /// processes, unlike `Hasher`).
    private func rank(_ node: String, _ partition: Int32) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in node.utf8 + Array("/\(partition)".utf8) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
