import Shoal
import Foundation

/// What the demo reads off a node's `/metrics` page: the sums of a few
/// series (over their labels), as Prometheus text gives them.
struct NodeMetricsScrape: Sendable {
    var recordsIn = 0.0
    var lag = 0.0
    var residentEntities = 0.0
    /// Records taken in and not yet processed.
    var buffered = 0.0
    /// How many nodes answered (1 or 0 for one node's scrape).
    var answers = 0

    /// Reads `url`; an unanswered scrape (the node still starting) is empty.
    static func read(_ url: URL) async -> NodeMetricsScrape {
        guard let data = await fetch(url) else { return NodeMetricsScrape() }
        return NodeMetricsScrape(prometheusText: String(decoding: data, as: UTF8.self))
    }

    /// The body at `url`, or nil when nothing answers within a second.
    private static func fetch(_ url: URL) async -> Data? {
        let response = await HTTPGet.fetch(url, timeout: 1)
        return response.error == nil ? response.body : nil
    }

    init() {}

    init(prometheusText text: String) {
        answers = 1
        buffered = Self.sum(of: "shoal_shard_buffered_records", in: text)
        recordsIn = Self.sum(of: "shoal_records_in_total", in: text)
        lag = Self.sum(of: "shoal_consumer_lag_records", in: text)
        residentEntities = Self.sum(of: "shoal_resident_entities", in: text)
    }

    /// How many partitions the node at `url`'s health check says it owns;
    /// nil while it does not answer.
    static func ownedPartitions(_ url: URL) async -> Int? {
        guard let data = await fetch(url),
              let health = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let owned = health["ownedPartitions"] as? [Any]
        else { return nil }
        return owned.count
    }

    static func sum(of name: String, in text: String) -> Double {
        var total = 0.0
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let rest = line.dropFirst(name.count)
            guard rest.first == " " || rest.first == "{", let value = rest.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            total += value
        }
        return total
    }

    static func + (left: NodeMetricsScrape, right: NodeMetricsScrape) -> NodeMetricsScrape {
        var sum = NodeMetricsScrape()
        sum.recordsIn = left.recordsIn + right.recordsIn
        sum.lag = left.lag + right.lag
        sum.residentEntities = left.residentEntities + right.residentEntities
        sum.buffered = left.buffered + right.buffered
        sum.answers = left.answers + right.answers
        return sum
    }
}
