import ArgumentParser
import Foundation
import Shoal
import ShoalKafka

/// Event decoding: Shoal's JSON decoder (`EventDecoder.json`) against
/// Foundation's `JSONDecoder` on the same records, side by side; then
/// encoding with sorted keys (states, outputs), Shoal's against Foundation's
/// `JSONEncoder`, checking that both write the same bytes.
struct JSONBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json",
        abstract: "Events decoded and encoded per second: Shoal's JSON vs Foundation's JSONDecoder and JSONEncoder."
    )

    @Option(help: "Records decoded per candidate and round.")
    var records: Int = 500_000

    @Option(help: "Rounds.")
    var rounds: Int = 3

    func run() async throws {
        let values = (0..<1_000).map { index in
            KafkaBytes(#"{"account":"acct-\#(index)","amount":\#(index % 500).25,"currency":"EUR","country":"DE","ip":"10.0.\#(index % 256).7","at":\#(1_700_000_000 + index)}"#)
        }
        let shoal = EventDecoder<Payment>.json
        let foundation = EventDecoder<Payment> { bytes in
            try bytes.withUnsafeBytes { try JSONDecoder().decode(Payment.self, from: Data($0)) }
        }
        var shoalRates: [Double] = []
        var foundationRates: [Double] = []
        for round in 1...rounds {
            let fast = try measure(shoal, values)
            let reference = try measure(foundation, values)
            shoalRates.append(fast)
            foundationRates.append(reference)
            print(String(format: "round %d: EventDecoder.json %.0f/s, JSONDecoder %.0f/s", round, fast, reference))
        }
        print(String(format: "median: EventDecoder.json %.0f events/s, JSONDecoder %.0f events/s, ratio %.2f",
                     median(shoalRates), median(foundationRates), median(shoalRates) / median(foundationRates)))
        let payments = try values.map { try shoal.decode($0) }
        try encoding(payments, what: "flat values")
        // A state holding a window of recent events, as pattern states do.
        let windows = (0..<100).map { start in PaymentWindow(count: start, recent: (0..<16).map { payments[(start + $0) % payments.count] }) }
        try encoding(windows, what: "windows of 16")
    }

    /// Sorted-key encoding, through the public path that uses Shoal's
    /// encoder (`ReplayEvent(json:)`), against Foundation's.
    private func encoding<Value: Encodable>(_ payments: [Value], what: String) throws {
        let foundation = JSONEncoder()
        foundation.outputFormatting = [.sortedKeys]
        print(what + ":")
        for payment in payments.prefix(100) {
            let ours = try ReplayEvent(topic: "t", offset: 0, key: "k", json: payment).value
            guard ours == Array(try foundation.encode(payment)) else { throw ValidationError("the encoders disagree on \(payment)") }
        }
        var shoalRates: [Double] = []
        var foundationRates: [Double] = []
        for round in 1...rounds {
            let fast = try rate { try ReplayEvent(topic: "t", offset: 0, key: "k", json: payments[$0 % payments.count]).value.count }
            let reference = try rate { try foundation.encode(payments[$0 % payments.count]).count }
            shoalRates.append(fast)
            foundationRates.append(reference)
            print(String(format: "round %d: Shoal's encoder %.0f/s, JSONEncoder %.0f/s", round, fast, reference))
        }
        print(String(format: "median: Shoal's encoder %.0f values/s, JSONEncoder %.0f values/s, ratio %.2f",
                     median(shoalRates), median(foundationRates), median(shoalRates) / median(foundationRates)))
    }

    private func rate(_ encode: (Int) throws -> Int) throws -> Double {
        var bytes = 0
        let start = ContinuousClock.now
        for index in 0..<records { bytes += try encode(index) }
        let seconds = (ContinuousClock.now - start).seconds
        guard bytes > 0 else { throw ValidationError("nothing encoded") }
        return Double(records) / seconds
    }

    private func measure(_ decoder: EventDecoder<Payment>, _ values: [KafkaBytes]) throws -> Double {
        var checksum = 0.0
        let start = ContinuousClock.now
        for index in 0..<records {
            checksum += try decoder.decode(values[index % values.count]).amount
        }
        let seconds = (ContinuousClock.now - start).seconds
        guard checksum > 0 else { throw ValidationError("nothing decoded") }
        return Double(records) / seconds
    }
}

/// A state keeping the last payments seen.
struct PaymentWindow: Codable, Sendable {
    var count: Int
    var recent: [Payment]
}

/// A payment as a fraud detector receives it.
struct Payment: Codable, Sendable {
    var account: String
    var amount: Double
    var currency: String
    var country: String
    var ip: String
    var at: Int64
}
