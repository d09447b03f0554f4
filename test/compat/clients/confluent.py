"""Compat driver for confluent-kafka-python (librdkafka). Prints one JSON line."""
import json
import os
import sys
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

scenario, bootstrap, *args = sys.argv[1:]
base = {"bootstrap.servers": bootstrap}
# FJORD_SECURITY: {"protocol", "mechanism", "username", "password", "ca"} for SASL_PLAINTEXT / SASL_SSL listeners.
sec = json.loads(os.environ.get("FJORD_SECURITY") or "null")
if sec:
    base.update({"security.protocol": sec["protocol"], "sasl.mechanisms": sec["mechanism"],
                 "sasl.username": sec["username"], "sasl.password": sec["password"]})
    if sec.get("ca"):
        base["ssl.ca.location"] = sec["ca"]


def out(o):
    print(json.dumps(o), flush=True)


def consume(topic, group, count, idle_ms, go_file=None, membership=None):
    c = Consumer({**base, "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "session.timeout.ms": 10000, **(membership or {})})
    c.subscribe([topic])
    records, start, last = [], time.time(), time.time()
    go_at = None if go_file else start
    # A missing record ends the wait 60 s after the go file (or the start), 200 s without it.
    while time.time() - (go_at or start) < (60 if go_at is not None else 200):
        if go_at is None and os.path.exists(go_file):
            go_at = last = time.time()
        if count >= 0 and len(records) >= count:
            break
        if count < 0 and go_at is not None and time.time() - last > idle_ms / 1000 and time.time() - go_at > idle_ms / 1000:
            break
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        records.append({"p": m.partition(), "o": m.offset(), "v": m.value().decode() if m.value() is not None else None})
        last = time.time()
    if records:
        c.commit(asynchronous=False)
    c.close()
    return records


if scenario == "metadata":
    md = AdminClient(base).list_topics(timeout=10)
    out({"brokers": len(md.brokers), "topics": list(md.topics.keys())})
elif scenario == "produce":
    topic, n, codec, idempotent = args
    p = Producer({**base, "compression.type": codec, "enable.idempotence": idempotent == "true", "acks": "all",
                  "linger.ms": 5})
    acked = []
    for i in range(int(n)):
        p.produce(topic, key=f"k{i}", value=f"v{i}", on_delivery=lambda err, msg: acked.append(err is None))
    p.flush(30)
    out({"acked": sum(acked)})
elif scenario == "transaction":
    topic, txn_id = args
    p = Producer({**base, "transactional.id": txn_id})
    p.init_transactions(60)
    p.begin_transaction()
    for i in range(5):
        p.produce(topic, key=f"k{i}", value=f"aborted{i}")
    p.flush(60)
    p.abort_transaction(60)
    p.begin_transaction()
    for i in range(10):
        p.produce(topic, key=f"k{i}", value=f"v{i}")
    p.commit_transaction(60)
    out({"committed": 10})
elif scenario == "consume":
    topic, group, n, idle, *go = args
    out({"records": consume(topic, group, int(n), int(idle), *go)})
elif scenario == "consume-static":
    # A static member (KIP-345): close() does not leave the group, so the coordinator keeps it.
    topic, group, n, instance, session_ms = args
    membership = {"group.instance.id": instance, "session.timeout.ms": int(session_ms)}
    out({"records": consume(topic, group, int(n), 0, membership=membership)})
elif scenario == "admin":
    (topic,) = args
    a = AdminClient(base)
    a.create_topics([NewTopic(topic, 2, 1)])[topic].result(10)
    a.create_partitions([NewPartitions(topic, 4)])[topic].result(10)
    parts = len(a.list_topics(topic, timeout=10).topics[topic].partitions)
    a.delete_topics([topic])[topic].result(10)
    time.sleep(0.5)
    deleted = topic not in a.list_topics(timeout=10).topics
    out({"created": True, "partitions": parts, "deleted": deleted})
elif scenario == "configs":
    (topic,) = args
    a = AdminClient(base)
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)

    def get():
        return list(a.describe_configs([res]).values())[0].result(10)["retention.ms"].value

    before = get()
    list(a.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"retention.ms": "12345"})]).values())[0].result(10)
    out({"before": before, "after": get()})
else:
    sys.exit(f"unknown scenario {scenario}")
