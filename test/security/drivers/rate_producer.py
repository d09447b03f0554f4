"""Produces as fast as librdkafka allows for a while; prints one JSON line: acked bytes over time and throttle times.

Usage: rate_producer.py <bootstrap> <user> <password> <topic> <seconds> <client-id> [<target bytes/s>]
With a target the producer paces itself to it; without one it produces as fast as it can.
"""
import json
import sys
import time

from confluent_kafka import Producer

bootstrap, user, password, topic, seconds, client_id, *rest = sys.argv[1:]
seconds = float(seconds)
target = float(rest[0]) if rest else 0
throttles = []
acked = []  # (seconds since start, bytes)
payload = b"x" * 1024
start = time.monotonic()


def delivered(err, msg):
    if err is None:
        acked.append((time.monotonic() - start, len(msg.value())))


p = Producer({
    "bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "PLAIN",
    "sasl.username": user, "sasl.password": password, "client.id": client_id, "acks": "1",
    "linger.ms": 5, "batch.size": 65536, "queue.buffering.max.kbytes": 1024,
    "throttle_cb": lambda event: throttles.append(event.throttle_time),
})
produced = 0
while time.monotonic() - start < seconds:
    if target and produced > target * (time.monotonic() - start):
        time.sleep(0.005)
        p.poll(0)
        continue
    try:
        p.produce(topic, payload, on_delivery=delivered)
        produced += len(payload)
    except BufferError:
        p.poll(0.01)
    p.poll(0)
p.flush(10)
window = [b for t, b in acked if t <= seconds]
# Measured from the first acknowledgement: connecting and fetching metadata is not producing.
first = acked[0][0] if acked else 0
print(json.dumps({
    "bytes": sum(window),
    "seconds": seconds,
    "first_ack_s": first,
    "rate": sum(window) / max(seconds - first, 1e-3),
    "throttles": len(throttles),
    "max_throttle_ms": max(throttles) if throttles else 0,
    # bytes acknowledged in each second, to see the rate settle
    "per_second": [sum(b for t, b in acked if s <= t < s + 1) for s in range(int(seconds))],
}), flush=True)
