import Foundation
@testable import Shoal
import Testing
import TestSupport

@Suite("Data directory lock")
struct DataDirectoryLockTests {
    @Test func nodesWithoutStandbysShareADirectory() throws {
        let directory = try temporaryDirectory().path
        let first = try DataDirectoryLock(directory: directory, exclusive: false)
        let second = try DataDirectoryLock(directory: directory, exclusive: false)
        withExtendedLifetime((first, second)) {}
    }

    @Test func aNodeKeepingStandbysNeedsADirectoryOfItsOwn() throws {
        let directory = try temporaryDirectory().path
        var neighbour: DataDirectoryLock? = try DataDirectoryLock(directory: directory, exclusive: false)
        let refused = #expect(throws: StoreError.self) { try DataDirectoryLock(directory: directory, exclusive: true) }
        #expect(refused?.code == .locked)
        #expect(refused?.reason.contains("--standbys") == true)
        #expect(refused?.reason.contains(directory) == true)
        neighbour = nil
        let alone = try DataDirectoryLock(directory: directory, exclusive: true)
        #expect(throws: StoreError.self, "a neighbour cannot join it either") {
            try DataDirectoryLock(directory: directory, exclusive: false)
        }
        withExtendedLifetime((alone, neighbour)) {}
    }
}
