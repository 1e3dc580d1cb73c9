#include "CConsumeBaseline.h"

#include "baseline_support.h"

/// What the producer's delivery callback counts.
struct pipe_deliveries {
    long delivered;
    long failed;
    double last;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
    (void)rk;
    struct pipe_deliveries *deliveries = opaque;
    if (message->err) {
        deliveries->failed++;
    } else {
        deliveries->delivered++;
        deliveries->last = baseline_now();
    }
}

/// The delivery settings of a node's output producer: idempotent, acks
/// from all replicas, 5 ms linger, batches of up to 10,000 (its
/// partitioner stays librdkafka's default: the node's murmur2 costs about
/// the same per record).
static rd_kafka_t *pipe_producer(const char *bootstrap, struct pipe_deliveries *deliveries) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (baseline_set(conf, "bootstrap.servers", bootstrap) || baseline_set(conf, "enable.idempotence", "true") ||
        baseline_set(conf, "acks", "all") || baseline_set(conf, "linger.ms", "5") ||
        baseline_set(conf, "queue.buffering.max.messages", "100000") || baseline_set(conf, "batch.num.messages", "10000")) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, deliveries);
    char reason[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof(reason));
    if (!rk) fprintf(stderr, "pipe baseline: %s\n", reason);
    return rk;
}

/// Produces one record, waiting for room while the local queue is full.
static int pipe_forward(rd_kafka_t *producer, const char *topic, const rd_kafka_message_t *message) {
    while (1) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(message->key, message->key_len),
            RD_KAFKA_V_VALUE(message->payload, message->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fprintf(stderr, "pipe baseline: produce: %s\n", rd_kafka_err2str(err));
            return -1;
        }
        rd_kafka_poll(producer, 10);
    }
}

/// Flushes the outputs, closes both clients, and returns the seconds from
/// `first` to the last delivery (negative when anything failed or went missing).
static double pipe_finish(rd_kafka_t *consumer, rd_kafka_t *producer, const struct pipe_deliveries *deliveries, int failed,
                          long expected, double first, long *delivered) {
    rd_kafka_flush(producer, 120000);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_destroy(producer);
    *delivered = deliveries->delivered;
    if (failed || deliveries->failed > 0 || deliveries->delivered < expected) return -1;
    return deliveries->last - first;
}

double shoal_baseline_pipe(const char *bootstrap, const char *in_topic, const char *out_topic, const char *group,
                           long expected, long queued_min_messages, long *delivered) {
    struct pipe_deliveries deliveries = {0, 0, 0};
    rd_kafka_t *consumer = baseline_consumer(bootstrap, in_topic, group, queued_min_messages);
    if (!consumer) return -1;
    rd_kafka_t *producer = pipe_producer(bootstrap, &deliveries);
    if (!producer) {
        rd_kafka_destroy(consumer);
        return -1;
    }
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(consumer);
    rd_kafka_message_t *batch[1024];
    long count = 0;
    double first = 0;
    int failed = 0;
    double progress = baseline_now();
    while (count < expected && !failed) {
        if (baseline_now() - progress > 60) {
            fprintf(stderr, "pipe baseline: no record for 60 s after %ld of %ld\n", count, expected);
            failed = 1;
            break;
        }
        ssize_t n = rd_kafka_consume_batch_queue(queue, 100, batch, 1024);
        if (n > 0) progress = baseline_now();
        for (ssize_t i = 0; i < n; i++) {
            if (!batch[i]->err && !failed) {
                if (count == 0) first = baseline_now();
                failed = pipe_forward(producer, out_topic, batch[i]);
                count++;
            }
            rd_kafka_message_destroy(batch[i]);
        }
        rd_kafka_poll(producer, 0);
    }
    rd_kafka_queue_destroy(queue);
    return pipe_finish(consumer, producer, &deliveries, failed, expected, first, delivered);
}

double shoal_baseline_latency_pipe(const char *bootstrap, const char *in_topic, const char *out_topic, const char *group,
                                   long expected, long queued_min_messages, long fetch_wait_ms, long *delivered) {
    struct pipe_deliveries deliveries = {0, 0, 0};
    rd_kafka_t *consumer = baseline_consumer_waiting(bootstrap, in_topic, group, queued_min_messages, fetch_wait_ms);
    if (!consumer) return -1;
    rd_kafka_t *producer = pipe_producer(bootstrap, &deliveries);
    if (!producer) {
        rd_kafka_destroy(consumer);
        return -1;
    }
    long count = 0;
    int failed = 0;
    double progress = baseline_now();
    double first = 0;
    while (count < expected && !failed) {
        if (baseline_now() - progress > 60) {
            fprintf(stderr, "latency pipe baseline: no record for 60 s after %ld of %ld\n", count, expected);
            failed = 1;
            break;
        }
        // One record at a time, as soon as it is there: a batch call waits
        // for a full batch or its timeout.
        rd_kafka_message_t *message = rd_kafka_consumer_poll(consumer, 1);
        rd_kafka_poll(producer, 0);
        if (!message) continue;
        if (!message->err) {
            progress = baseline_now();
            if (count == 0) first = progress;
            failed = pipe_forward(producer, out_topic, message);
            count++;
        }
        rd_kafka_message_destroy(message);
    }
    return pipe_finish(consumer, producer, &deliveries, failed, expected, first, delivered);
}
