import Foundation
import Testing
import TestSupport

@Suite("produce command")
struct ProduceCommandTests {
    /// `--journal` prints the records instead of producing them: a producer's
    /// flag given with it is named, not ignored.
    @Test(.timeLimit(.minutes(1)), arguments: [
        (["produce", "--journal", "--rate", "100"], "--rate"),
        (["produce", "--journal", "--brokers", "127.0.0.1:9092"], "--brokers"),
        (["produce", "--count", "0"], "--count"),
        (["produce"], "--brokers"),
    ])
    func flagsThatWouldBeIgnoredOrAreWrongAreNamed(arguments: [String], named: String) async throws {
        let process = try ChildProcess(executable: "CounterApp", arguments: arguments, directory: try temporaryDirectory(), name: "produce")
        let status = await process.waitForExit()
        #expect(status != nil && status != 0)
        #expect(process.errors.contains(named), "\(process.errors)")
    }
}
