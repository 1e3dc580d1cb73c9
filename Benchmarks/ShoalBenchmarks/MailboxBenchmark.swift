import ArgumentParser
import AsyncAlgorithms
import DequeModule
import Synchronization

/// Per-key FIFO delivery, the shard's mailbox pattern, against library
/// channels: the same messages over the same keys, each handled in order
/// by one task per key at a time.
struct MailboxBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailbox",
        abstract: "Per-key mailboxes: Shoal's Deque-under-Mutex scheme vs AsyncStream and AsyncChannel."
    )

    @Option(help: "Messages in all.")
    var messages: Int = 1_000_000

    @Option(help: "Distinct keys.")
    var keys: Int = 1_000

    @Option(help: "Rounds of each candidate.")
    var rounds: Int = 3

    func run() async throws {
        var rates: [String: [Double]] = [:]
        for round in 1...rounds {
            var line = "round \(round):"
            for candidate in Candidate.allCases {
                let seconds = await candidate.measure(messages: messages, keys: keys)
                rates[candidate.rawValue, default: []].append(Double(messages) / seconds)
                line += String(format: " %@ %.0f/s", candidate.rawValue, Double(messages) / seconds)
            }
            print(line)
        }
        let shoal = median(rates["shoal-mailbox"]!)
        for candidate in Candidate.allCases where candidate != .shoal {
            let other = median(rates[candidate.rawValue]!)
            print(String(format: "median: shoal-mailbox %.0f/s, %@ %.0f/s, ratio %.2f", shoal, candidate.rawValue, other, shoal / other))
        }
    }

    enum Candidate: String, CaseIterable {
        case shoal = "shoal-mailbox"
        case stream = "AsyncStream"
        case channel = "AsyncChannel"

        func measure(messages: Int, keys: Int) async -> Double {
            let start = ContinuousClock.now
            switch self {
            case .shoal: await runShoalMailboxes(messages: messages, keys: keys)
            case .stream: await runStreams(messages: messages, keys: keys)
            case .channel: await runChannels(messages: messages, keys: keys)
            }
            return (ContinuousClock.now - start).seconds
        }
    }
}

/// The shard's scheme: a Deque per key under one lock; a task drains a key's
/// queue while it has work and ends when it is empty.
private func runShoalMailboxes(messages: Int, keys: Int) async {
    final class Mailboxes: Sendable {
        struct Box { var queue: Deque<Int> = []; var running = false; var handled = 0 }
        let state = Mutex<[Box]>([])
        let done = Atomic<Int>(0)
        init(keys: Int) { state.withLock { $0 = Array(repeating: Box(), count: keys) } }

        func send(_ value: Int, to key: Int) -> Bool {
            state.withLock { boxes in
                boxes[key].queue.append(value)
                defer { boxes[key].running = true }
                return !boxes[key].running
            }
        }

        func drain(_ key: Int) async {
            while let value = state.withLock({ boxes -> Int? in
                guard let value = boxes[key].queue.popFirst() else {
                    boxes[key].running = false
                    return nil
                }
                boxes[key].handled += value & 1
                return value
            }) {
                _ = value
                done.add(1, ordering: .relaxed)
            }
        }
    }
    let mailboxes = Mailboxes(keys: keys)
    for index in 0..<messages {
        let key = index % keys
        if mailboxes.send(index, to: key) { Task { await mailboxes.drain(key) } }
    }
    while mailboxes.done.load(ordering: .relaxed) < messages { await Task.yield() }
}

/// One AsyncStream and one long-lived consumer task per key.
private func runStreams(messages: Int, keys: Int) async {
    await withTaskGroup(of: Void.self) { group in
        var continuations: [AsyncStream<Int>.Continuation] = []
        for _ in 0..<keys {
            let (stream, continuation) = AsyncStream<Int>.makeStream()
            continuations.append(continuation)
            group.addTask {
                var handled = 0
                for await value in stream { handled += value & 1 }
            }
        }
        for index in 0..<messages {
            continuations[index % keys].yield(index)
        }
        for continuation in continuations { continuation.finish() }
    }
}

/// One AsyncChannel (sender suspends until taken) and one consumer task per key.
private func runChannels(messages: Int, keys: Int) async {
    await withTaskGroup(of: Void.self) { group in
        let channels = (0..<keys).map { _ in AsyncChannel<Int>() }
        for channel in channels {
            group.addTask {
                var handled = 0
                for await value in channel { handled += value & 1 }
            }
        }
        for index in 0..<messages {
            await channels[index % keys].send(index)
        }
        for channel in channels { channel.finish() }
    }
}
