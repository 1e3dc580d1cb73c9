#include "CConsumeBaseline.h"

#include "baseline_support.h"

double shoal_baseline_consume(const char *bootstrap, const char *topic, const char *group,
                              long expected, long queued_min_messages, int batch_mode, long *checksum) {
    rd_kafka_t *rk = baseline_consumer(bootstrap, topic, group, queued_min_messages);
    if (!rk) return -1;

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
