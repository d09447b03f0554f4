/*
 * Fjord's native load generator (librdkafka). Modes:
 *   loadgen produce <bootstrap> <topic> <count> <size> <acks>   -> JSON: msgs/s, MB/s, p50/p99 latency
 *   loadgen consume <bootstrap> <topic> <count>                 -> JSON: msgs/s, MB/s from the first record
 *     (which excludes the first fetch: librdkafka may have prefetched much of the topic by then), and
 *     wall_msgs_per_s, wall_mb_per_s from before connecting (connection, handshake and every fetch)
 *   loadgen tcp <bytes>                                         -> JSON: loopback TCP MB/s (the ceiling)
 * Built by run-loadgen.sh: gcc -O2 loadgen.c -lrdkafka -lpthread
 * LOADGEN_CONF="key=value;key=value" adds librdkafka settings (security.protocol, sasl.*, ssl.*).
 * LOADGEN_RATE=N paces produce at N messages per second (latency at a fixed rate; default: open loop).
 */
#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double *sent_at, *latency;
static long delivered, failed;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  long i = (long)(intptr_t)m->_private;
  if (m->err) failed++;
  else latency[delivered++] = now_s() - sent_at[i];
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void set(rd_kafka_conf_t *c, const char *k, const char *v) {
  char err[256];
  if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "%s\n", err);
    exit(2);
  }
}

/* Applies LOADGEN_CONF: semicolon-separated key=value pairs. */
static void extra(rd_kafka_conf_t *c) {
  const char *env = getenv("LOADGEN_CONF");
  if (!env) return;
  char *copy = strdup(env), *save = NULL;
  for (char *kv = strtok_r(copy, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
    char *eq = strchr(kv, '=');
    if (!eq) continue;
    *eq = 0;
    set(c, kv, eq + 1);
  }
  free(copy);
}

static int produce(const char *bootstrap, const char *topic, long count, int size, const char *acks) {
  char err[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "acks", acks);
  set(conf, "linger.ms", "5");
  set(conf, "batch.size", "1000000");
  set(conf, "queue.buffering.max.messages", "1000000");
  set(conf, "queue.buffering.max.kbytes", "1048576");
  extra(conf); /* after the defaults, so LOADGEN_CONF may change linger.ms / batch.size too */
  rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  sent_at = malloc(sizeof(double) * count);
  latency = malloc(sizeof(double) * count);
  char *payload = malloc(size);
  memset(payload, 'x', size);
  const char *rate_env = getenv("LOADGEN_RATE");
  double rate = rate_env ? atof(rate_env) : 0;
  double start = now_s();
  for (long i = 0; i < count; i++) {
    if (rate > 0) /* serve delivery reports while waiting for this message's slot */
      for (double wait; (wait = start + i / rate - now_s()) > 0;) {
        if (wait > 0.002) rd_kafka_poll(rk, (int)(wait * 1e3) - 1);
        else nanosleep(&(struct timespec){.tv_nsec = (long)(wait * 1e9)}, NULL);
      }
    sent_at[i] = now_s();
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, size),
                             RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(rk, 1);
    rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 120000);
  double secs = now_s() - start;
  qsort(latency, delivered, sizeof(double), cmp);
  printf("{\"mode\":\"produce\",\"count\":%ld,\"size\":%d,\"acks\":\"%s\",\"delivered\":%ld,\"failed\":%ld,"
         "\"seconds\":%.3f,\"msgs_per_s\":%.0f,\"mb_per_s\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
         count, size, acks, delivered, failed, secs, delivered / secs, delivered * (double)size / secs / 1e6,
         delivered ? latency[delivered / 2] * 1e3 : -1, delivered ? latency[(long)(delivered * 0.99)] * 1e3 : -1);
  rd_kafka_destroy(rk);
  return failed != 0;
}

static int consume(const char *bootstrap, const char *topic, long count) {
  char err[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "group.id", "loadgen");
  extra(conf);
  set(conf, "enable.auto.commit", "false");
  set(conf, "fetch.max.bytes", "52428800");
  set(conf, "max.partition.fetch.bytes", "10485760");
  /* The broker is measured, not the client's prefetch pacing: with librdkafka's default queue
   * bound (100,000 messages) a 10 MB response of 100 B records overfills it and the fetcher backs
   * off for up to a second, whichever broker answered. */
  set(conf, "queued.min.messages", "10000000");
  set(conf, "queued.max.messages.kbytes", "2097151");
  double wall_start = now_s();
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  long got = 0;
  double bytes = 0, start = 0;
  while (got < count) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
    if (!m) continue;
    if (!m->err) {
      if (got == 0) start = now_s();
      got++;
      bytes += m->len;
    }
    rd_kafka_message_destroy(m);
  }
  double end = now_s(), secs = end - start, wall = end - wall_start;
  printf("{\"mode\":\"consume\",\"count\":%ld,\"seconds\":%.3f,\"msgs_per_s\":%.0f,\"mb_per_s\":%.1f,"
         "\"wall_seconds\":%.3f,\"wall_msgs_per_s\":%.0f,\"wall_mb_per_s\":%.1f}\n",
         got, secs, got / secs, bytes / secs / 1e6, wall, got / wall, bytes / wall / 1e6);
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return 0;
}

static int listen_fd;
static void *sink(void *arg) {
  (void)arg;
  int fd = accept(listen_fd, NULL, NULL);
  char buf[1 << 16];
  while (read(fd, buf, sizeof buf) > 0) {
  }
  close(fd);
  return NULL;
}

/* The physical ceiling: one TCP stream over loopback, 64 KiB writes, drained by another thread. */
static int tcp(long total) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  bind(listen_fd, (struct sockaddr *)&a, sizeof a);
  listen(listen_fd, 1);
  getsockname(listen_fd, (struct sockaddr *)&a, &len);
  pthread_t t;
  pthread_create(&t, NULL, sink, NULL);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  connect(fd, (struct sockaddr *)&a, sizeof a);
  static char buf[1 << 16];
  double start = now_s();
  for (long sent = 0; sent < total;) sent += write(fd, buf, sizeof buf);
  close(fd);
  pthread_join(t, NULL);
  double secs = now_s() - start;
  printf("{\"mode\":\"tcp\",\"bytes\":%ld,\"seconds\":%.3f,\"mb_per_s\":%.1f}\n", total, secs, total / secs / 1e6);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 7 && !strcmp(argv[1], "produce")) return produce(argv[2], argv[3], atol(argv[4]), atoi(argv[5]), argv[6]);
  if (argc >= 5 && !strcmp(argv[1], "consume")) return consume(argv[2], argv[3], atol(argv[4]));
  if (argc >= 3 && !strcmp(argv[1], "tcp")) return tcp(atol(argv[2]));
  fprintf(stderr, "usage: loadgen produce|consume|tcp ...\n");
  return 2;
}
