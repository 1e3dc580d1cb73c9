// Shoal: real-time, stateful stream processing on Kafka, for Swift.
//
// This module is what applications import. It re-exports the Kafka layer
// and provides the command group every Shoal application embeds.
@_exported import ShoalKafka
// Entities are distributed actors: `import Shoal` alone lets a file declare one.
@_exported import Distributed
