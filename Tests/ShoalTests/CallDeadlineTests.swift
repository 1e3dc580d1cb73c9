import Foundation
import Testing
@testable import Shoal

/// A call whose node never answers fails with a timeout, not a hang: the
/// caller's connection sweeps its waiting calls for deadlines.
@Suite("Call deadlines")
struct CallDeadlineTests {
    @Test(.timeLimit(.minutes(1)))
    func callsToAPeerThatNeverAnswersTimeOut() async throws {
        let peer = try FirstBytesListener(behaviour: .neverAnswers)
        let clients = CallClients(secret: try CallSecret(Array("sixteen-bytes-at-least".utf8)), maxMessageBytes: 1 << 20)
        defer { clients.shutdown() }
        let address = "127.0.0.1:\(peer.port)"
        // Two on one connection: the second, with the later deadline, is
        // found by a later sweep than the first.
        async let short = outcome { try await clients.exchange([1], proof: nil, to: address, timeout: .milliseconds(200)) }
        async let long = outcome { try await clients.exchange([2], proof: nil, to: address, timeout: .milliseconds(700)) }
        let (first, second) = await (short, long)
        #expect(first.error?.contains("no answer within 0.2 seconds") == true, "\(first)")
        #expect(second.error?.contains("no answer within 0.7 seconds") == true, "\(second)")
        #expect(first.elapsed >= .milliseconds(200), "not before its deadline: \(first.elapsed)")
        #expect(second.elapsed >= .milliseconds(700), "not before its deadline: \(second.elapsed)")
        // Each at its own deadline. A first call that ended after the second's
        // deadline says only that the test's threads were starved (both
        // took 4.2 s once, under the whole suite): their order then tells nothing.
        if first.elapsed < .milliseconds(700) {
            #expect(first.elapsed < second.elapsed, "each at its own deadline: \(first), \(second)")
        }
        withExtendedLifetime(peer) {}  // its connections stay open until the calls ended
    }

    /// A node that cannot be connected to (its listener's queue is full, so
    /// the connect waits until its own 2 s run out): the call's timeout ends
    /// the call first.
    @Test(.timeLimit(.minutes(1)))
    func aCallsTimeoutCoversConnecting() async throws {
        let peer = try FullListener()
        let clients = CallClients(secret: try CallSecret(Array("sixteen-bytes-at-least".utf8)), maxMessageBytes: 1 << 20)
        defer { clients.shutdown() }
        let address = "127.0.0.1:\(peer.port)"
        let call = await outcome { try await clients.exchange([1], proof: nil, to: address, timeout: .milliseconds(300)) }
        #expect(call.error?.contains("no connection to \(address) within 0.3 seconds") == true, "\(call)")
        #expect(call.elapsed >= .milliseconds(300), "not before its deadline: \(call.elapsed)")
        // The connect's own failure, later, is not handed to the next call.
        try await Task.sleep(for: .seconds(2.5))
        let next = await outcome { try await clients.exchange([2], proof: nil, to: address, timeout: .milliseconds(300)) }
        #expect(next.error?.contains("no connection to \(address) within 0.3 seconds") == true, "connects again: \(next)")
        withExtendedLifetime(peer) {}
    }

    private struct Outcome: CustomStringConvertible {
        var error: String?
        var elapsed: Duration
        var description: String { "\(error ?? "answered") after \(elapsed)" }
    }

    private func outcome(_ body: () async throws -> CallFrame) async -> Outcome {
        let started = ContinuousClock.now
        do {
            _ = try await body()
            return Outcome(error: nil, elapsed: .now - started)
        } catch {
            return Outcome(error: "\(error)", elapsed: .now - started)
        }
    }
}

/// A loopback listener that never accepts, with its queue full: the kernel
/// drops further connects' first packets, so they wait.
private final class FullListener {
    let port: Int
    private let socket: Int32
    private let queued: Int32

    init() throws {
        // A backlog of 0 queues one connection.
        (socket, port) = try listenOnLoopback(backlog: 0)
        queued = try connectOnLoopback(to: port)
    }

    deinit {
        close(queued)
        close(socket)
    }
}
