"""Workloads for the cluster tests, on confluent-kafka-python (librdkafka).

produce BOOTSTRAP TOPIC PARTITIONS SECONDS RATE NAME
    An idempotent acks=all producer sending RATE messages/s round-robin over the partitions for
    SECONDS, values NAME-<seq>. Prints one JSON line per delivery report
    ({"t": ms, "p": partition, "o": offset, "v": value} or {"t": ms, "err": "...", "v": value}),
    then {"done": true, "sent": n, "acked": n, "failed": n}. Stops early on SIGTERM.

consume BOOTSTRAP TOPIC GROUP SECONDS
    A consumer in GROUP (committing as it goes) for SECONDS; prints {"t": ms, "p": partition,
    "o": offset, "v": value} per record and {"e": "..."} per error, then {"done": true}.

dump BOOTSTRAP TOPIC
    Reads every partition of TOPIC from its start to its high watermark and prints
    {"records": [[partition, offset, value], ...]}.
"""
import json
import os
import signal
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

mode, bootstrap, topic, *rest = sys.argv[1:]
# Extra librdkafka settings for every client (e.g. SASL for an authenticated cluster), as JSON.
EXTRA = json.loads(os.environ.get("FJORD_WORKLOAD_CLIENT_CONFIG", "{}"))


def emit(o):
    sys.stdout.write(json.dumps(o) + "\n")
    sys.stdout.flush()


def now_ms():
    return int(time.time() * 1000)


if mode == "produce":
    partitions, seconds, rate, name = int(rest[0]), float(rest[1]), float(rest[2]), rest[3]
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    p = Producer({
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 2,
        "retry.backoff.ms": 50,
        "message.timeout.ms": 120000,
        "socket.timeout.ms": 10000,
        "topic.metadata.refresh.interval.ms": 5000,
        **EXTRA,
    })
    counts = {"acked": 0, "failed": 0}

    def report(err, msg):
        v = msg.value().decode()
        if err is None:
            counts["acked"] += 1
            emit({"t": now_ms(), "p": msg.partition(), "o": msg.offset(), "v": v})
        else:
            counts["failed"] += 1
            emit({"t": now_ms(), "err": str(err), "v": v})

    sent, start, interval = 0, time.time(), 1.0 / rate
    while time.time() - start < seconds and not stop["now"]:
        due = start + sent * interval
        wait = due - time.time()
        if wait > 0:
            p.poll(min(wait, 0.05))
            continue
        try:
            p.produce(topic, value=f"{name}-{sent}", partition=sent % partitions, on_delivery=report)
            sent += 1
        except BufferError:
            p.poll(0.05)
        p.poll(0)
    remaining = p.flush(150)
    emit({"done": True, "sent": sent, "unflushed": remaining, **counts})
elif mode == "consume":
    group, seconds = rest[0], float(rest[1])
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": True, "auto.commit.interval.ms": 500, "session.timeout.ms": 10000, **EXTRA})
    c.subscribe([topic])
    start = time.time()
    while time.time() - start < seconds and not stop["now"]:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            emit({"t": now_ms(), "e": str(m.error())})
            continue
        emit({"t": now_ms(), "p": m.partition(), "o": m.offset(), "v": m.value().decode()})
    c.close()
    emit({"done": True})
elif mode == "dump":
    # Answers while a partition's leadership moves (librdkafka does not always flag them retriable):
    # LEADER_NOT_AVAILABLE, NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT, FENCED/UNKNOWN_LEADER_EPOCH,
    # and the client's own timeout and transport errors.
    LEADERSHIP_MOVING = {5, 6, 7, 74, 75, KafkaError._TIMED_OUT, KafkaError._TRANSPORT}
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"dump-{now_ms()}", "enable.auto.commit": False,
                  "enable.partition.eof": True, **EXTRA})
    md = c.list_topics(topic, timeout=20)
    parts = sorted(md.topics[topic].partitions.keys())
    ends = {}
    for p in parts:
        # Leadership may still be moving (a preferred election after failures): ask again until a
        # leader answers; only a non-retriable error or two minutes of them fail the dump.
        give_up = time.time() + 120
        while True:
            try:
                lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=20)
                break
            except KafkaException as e:
                err = e.args[0]
                moving = err.retriable() or err.code() in LEADERSHIP_MOVING
                if not moving or time.time() > give_up:
                    raise
                time.sleep(0.5)
        ends[p] = hi
    c.assign([TopicPartition(topic, p, 0) for p in parts if ends[p] > 0])
    records, done, deadline = [], {p for p in parts if ends[p] == 0}, time.time() + 120
    reached = {p: -1 for p in parts}
    while len(done) < len(parts) and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                if m.offset() >= ends[m.partition()]:
                    done.add(m.partition())
                continue
            raise KafkaException(m.error())
        records.append([m.partition(), m.offset(), m.value().decode()])
        reached[m.partition()] = m.offset()
        if m.offset() + 1 >= ends[m.partition()]:
            done.add(m.partition())
    c.close()
    emit({"records": records, "ends": ends, "reached": reached, "complete": len(done) == len(parts)})
else:
    raise SystemExit(f"unknown mode {mode}")
