import Foundation
import ShoalKafka

extension PartitionStore {
    /// A partition's file name: `<topic>-<partition>.sqlite`.
    package static func fileName(for partition: TopicPartition) -> String {
        "\(partition.topic)-\(partition.partition).sqlite"
    }

    /// The partition a file of that name belongs to, or nil for another file.
    package static func partition(ofFile path: String) -> TopicPartition? {
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        guard let dash = name.lastIndex(of: "-"), let partition = Int32(name[name.index(after: dash)...]) else { return nil }
        return TopicPartition(String(name[..<dash]), partition)
    }
}
