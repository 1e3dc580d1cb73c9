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

#endif
