#include "CConsumeBaseline.h"

#include "baseline_support.h"

double shoal_baseline_consume(const char *bootstrap, const char *topic, const char *group,
                              long expected, long queued_min_messages, int batch_mode, long *checksum) {
    char queued[32];
    snprintf(queued, sizeof(queued), "%ld", queued_min_messages);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (baseline_set(conf, "bootstrap.servers", bootstrap) || baseline_set(conf, "group.id", group) ||
        baseline_set(conf, "auto.offset.reset", "earliest") || baseline_set(conf, "enable.auto.commit", "false") ||
        baseline_set(conf, "session.timeout.ms", "6000") || baseline_set(conf, "heartbeat.interval.ms", "1000") ||
        baseline_set(conf, "partition.assignment.strategy", "cooperative-sticky") ||
        baseline_set(conf, "fetch.wait.max.ms", "100") || baseline_set(conf, "queued.min.messages", queued)) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    char reason[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof(reason));
    if (!rk) {
        fprintf(stderr, "baseline: %s\n", reason);
        return -1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);

    long count = 0;
    long sum = 0;
    double first = 0;
    double last = 0;
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *batch[1024];
    while (batch_mode && count < expected) {
        ssize_t n = rd_kafka_consume_batch_queue(queue, 0, batch, 1024);
        if (n <= 0) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
            if (!m) continue;
            batch[0] = m;
            n = 1 + rd_kafka_consume_batch_queue(queue, 0, batch + 1, 1023);
        }
        for (ssize_t i = 0; i < n; i++) {
            if (!batch[i]->err) {
                if (count == 0) first = baseline_now();
                sum += (long)batch[i]->len + (long)batch[i]->key_len;
                count++;
                last = baseline_now();
            }
            rd_kafka_message_destroy(batch[i]);
        }
    }
    rd_kafka_queue_destroy(queue);
    while (count < expected) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(rk, 100);
        if (!message) continue;
        if (!message->err) {
            if (count == 0) first = baseline_now();
            sum += (long)message->len + (long)message->key_len;
            count++;
            last = baseline_now();
        }
        rd_kafka_message_destroy(message);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    *checksum = sum;
    return last - first;
}
