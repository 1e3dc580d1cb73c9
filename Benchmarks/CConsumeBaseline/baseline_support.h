#ifndef SHOAL_BASELINE_SUPPORT_H
#define SHOAL_BASELINE_SUPPORT_H

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <time.h>

/// Seconds on the monotonic clock.
static inline double baseline_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/// Sets one property, printing librdkafka's reason on failure.
static inline int baseline_set(rd_kafka_conf_t *conf, const char *name, const char *value) {
    char reason[512];
    if (rd_kafka_conf_set(conf, name, value, reason, sizeof(reason)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "baseline: %s: %s\n", name, reason);
        return -1;
    }
    return 0;
}

/// A consumer of `topic` in `group`, read from the beginning, with the
/// baselines' settings (a fresh group each run; `queued_min_messages`
/// records prefetched; a fetch that finds nothing waits `fetch_wait_ms`),
/// or NULL with the reason printed.
static inline rd_kafka_t *baseline_consumer_waiting(const char *bootstrap, const char *topic, const char *group,
                                                    long queued_min_messages, long fetch_wait_ms) {
    char queued[32], wait[32];
    snprintf(queued, sizeof(queued), "%ld", queued_min_messages);
    snprintf(wait, sizeof(wait), "%ld", fetch_wait_ms);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (baseline_set(conf, "bootstrap.servers", bootstrap) || baseline_set(conf, "group.id", group) ||
        baseline_set(conf, "auto.offset.reset", "earliest") || baseline_set(conf, "enable.auto.commit", "false") ||
        baseline_set(conf, "session.timeout.ms", "6000") || baseline_set(conf, "heartbeat.interval.ms", "1000") ||
        baseline_set(conf, "partition.assignment.strategy", "cooperative-sticky") ||
        baseline_set(conf, "fetch.wait.max.ms", wait) || baseline_set(conf, "queued.min.messages", queued)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    char reason[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof(reason));
    if (!rk) {
        fprintf(stderr, "baseline: %s\n", reason);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    return rk;
}

/// `baseline_consumer_waiting` with the throughput runs' 100 ms fetch wait.
static inline rd_kafka_t *baseline_consumer(const char *bootstrap, const char *topic, const char *group, long queued_min_messages) {
    return baseline_consumer_waiting(bootstrap, topic, group, queued_min_messages, 100);
}

#endif
