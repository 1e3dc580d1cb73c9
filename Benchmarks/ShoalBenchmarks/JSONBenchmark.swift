import ArgumentParser
import Foundation
import Shoal
import ShoalKafka

/// Event decoding: Shoal's JSON decoder (`EventDecoder.json`) against
/// Foundation's `JSONDecoder` on the same records, side by side.
struct JSONBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json",
        abstract: "Events decoded per second: EventDecoder.json vs Foundation's JSONDecoder."
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

/// A payment as a fraud detector receives it.
struct Payment: Codable, Sendable {
    var account: String
    var amount: Double
    var currency: String
    var country: String
    var ip: String
    var at: Int64
}
