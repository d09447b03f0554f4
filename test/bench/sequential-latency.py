"""Unloaded produce latency: one message at a time, each flushed before the next (librdkafka).
Usage: /usr/bin/python3 sequential-latency.py BOOTSTRAP TOPIC ACKS COUNT; prints one JSON line."""
import json
import sys
import time

from confluent_kafka import Producer

bootstrap, topic, acks, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
p = Producer({"bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 0})
p.produce(topic, b"warm-up")
p.flush(30)
lat = []
for _ in range(count):
    t = time.perf_counter()
    p.produce(topic, b"x" * 1024)
    p.flush(30)
    lat.append((time.perf_counter() - t) * 1000)
lat.sort()
print(json.dumps({"p50_ms": round(lat[len(lat) // 2], 2), "p99_ms": round(lat[int(len(lat) * 0.99)], 2)}, separators=(",", ":")))
