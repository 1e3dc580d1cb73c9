import Foundation
import Logging
import ShoalKafka
import Synchronization
import Testing
@_exported import TestSupport

/// A collector of things that happen in order, across tasks and threads.
final class Timeline: Sendable {
    private let entries = Mutex<[String]>([])

    func record(_ entry: String) {
        entries.withLock { $0.append(entry) }
    }

    var all: [String] { entries.withLock { $0 } }

    func index(of entry: String) -> Int? {
        all.firstIndex(of: entry)
    }
}

