"""Compat driver for kafka-python (pure Python client). Prints one JSON line."""
import json
import os
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic

scenario, bootstrap, *args = sys.argv[1:]
# The client probes broker versions with a 2 s timeout by default; CI machines run many clients at once.
PROBE = {"api_version_auto_timeout_ms": 15000, "request_timeout_ms": 30000}
# FJORD_SECURITY: {"protocol", "mechanism", "username", "password", "ca"} for SASL_PLAINTEXT / SASL_SSL listeners.
sec = json.loads(os.environ.get("FJORD_SECURITY") or "null")
if sec:
    # Why a login failed shows only in the client's log.
    import logging
    logging.basicConfig(level=logging.ERROR)
    PROBE.update({"security_protocol": sec["protocol"], "sasl_mechanism": sec["mechanism"],
                  "sasl_plain_username": sec["username"], "sasl_plain_password": sec["password"]})
    if sec.get("ca"):
        PROBE["ssl_cafile"] = sec["ca"]


def out(o):
    print(json.dumps(o), flush=True)


def consume(topic, group, count, idle_ms, go_file=None):
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, **PROBE, auto_offset_reset="earliest",
                      enable_auto_commit=False, session_timeout_ms=10000, heartbeat_interval_ms=1000)
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
        for tp, msgs in c.poll(200).items():
            for m in msgs:
                records.append({"p": m.partition, "o": m.offset, "v": m.value.decode() if m.value is not None else None})
                last = time.time()
    if records:
        c.commit()
    c.close()
    return records


if scenario == "metadata":
    c = KafkaConsumer(bootstrap_servers=bootstrap, **PROBE)
    topics = list(c.topics())
    brokers = len(c._client.cluster.brokers())
    c.close()
    out({"brokers": brokers, "topics": topics})
elif scenario == "produce":
    topic, n, codec, idempotent = args
    p = KafkaProducer(bootstrap_servers=bootstrap, **PROBE, compression_type=None if codec == "none" else codec, acks="all")
    futures = [p.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode()) for i in range(int(n))]
    p.flush(30)
    out({"acked": sum(1 for f in futures if f.succeeded())})
elif scenario == "consume":
    topic, group, n, idle, *go = args
    out({"records": consume(topic, group, int(n), int(idle), *go)})
elif scenario == "admin":
    (topic,) = args
    a = KafkaAdminClient(bootstrap_servers=bootstrap, **PROBE)
    a.create_topics([NewTopic(topic, 2, 1)])
    a.create_partitions({topic: NewPartitions(4)})
    parts = len(a.describe_topics([topic])[0]["partitions"])
    a.delete_topics([topic])
    deleted = topic not in a.list_topics()
    out({"created": True, "partitions": parts, "deleted": deleted})
elif scenario == "configs":
    (topic,) = args
    a = KafkaAdminClient(bootstrap_servers=bootstrap, **PROBE)

    def get():
        resp = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])[0]
        return [c[1] for c in resp.resources[0][4] if c[0] == "retention.ms"][0]

    before = get()
    a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": "12345"})])
    out({"before": before, "after": get()})
else:
    sys.exit(f"unknown scenario {scenario}")
