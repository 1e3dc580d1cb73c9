#ifndef SHOAL_CCONSUMEBASELINE_H
#define SHOAL_CCONSUMEBASELINE_H

/// The baseline the Swift consumer is measured against: a plain librdkafka
/// high-level consumer loop that touches each record's key and value and
/// nothing else. It joins `group`, reads `expected` records of `topic` from
/// the beginning, and returns the seconds between the first and the last
/// record (group join excluded), or a negative value on error. With
/// `batch_mode` it takes records with rd_kafka_consume_batch_queue, as the
/// Swift consumer does; otherwise one rd_kafka_consumer_poll per record.
double shoal_baseline_consume(const char *bootstrap, const char *topic, const char *group,
                              long expected, long queued_min_messages, int batch_mode, long *checksum);

/// The baseline a node's whole path is measured against: a plain librdkafka
/// pipe that reads `expected` records of `in_topic` from the beginning and
/// produces each one's key and value to `out_topic` with the delivery
/// settings of a node's outputs, then flushes. Returns the seconds from the
/// first record read to the last delivery acknowledged by the broker, or a
/// negative value on error; `delivered` gets the acknowledged count.
double shoal_baseline_pipe(const char *bootstrap, const char *in_topic, const char *out_topic, const char *group,
                           long expected, long queued_min_messages, long *delivered);

/// The baseline a node's produce-to-output latency is measured against:
/// the pipe above, taking each record as soon as it arrives
/// (`rd_kafka_consumer_poll`, fetches waiting `fetch_wait_ms` when they
/// find nothing), until `expected` records. Returns the seconds from the
/// first record read to the last delivery acknowledged, or a negative
/// value on error; `delivered` gets the acknowledged count.
double shoal_baseline_latency_pipe(const char *bootstrap, const char *in_topic, const char *out_topic, const char *group,
                                   long expected, long queued_min_messages, long fetch_wait_ms, long *delivered);

#endif
