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

#endif
