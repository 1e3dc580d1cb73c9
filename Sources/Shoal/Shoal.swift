// Shoal: real-time, stateful stream processing on Kafka, for Swift.
//
// This module is the runtime applications import. It re-exports the Kafka
// layer; the command group lives in the ShoalApp module.
@_exported import ShoalKafka
// Entities are distributed actors: `import Shoal` alone lets a file declare one.
@_exported import Distributed
