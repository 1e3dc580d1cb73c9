import Foundation
import Synchronization

/// Where passivated entities keep their encoded state until they are
/// activated again. This release keeps it in the node's memory; the SQLite
/// store replaces it with per-partition files.
final class EntityStateStore: Sendable {
    private let states = Mutex<[EntityID: Data]>([:])

    func load(_ id: EntityID) -> Data? {
        states.withLock { $0[id] }
    }

    func save(_ id: EntityID, _ state: Data) {
        states.withLock { $0[id] = state }
    }
}
