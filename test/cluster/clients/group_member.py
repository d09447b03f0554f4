"""One consumer-group member on confluent-kafka-python (librdkafka) that commits each record.

group_member.py BOOTSTRAP TOPIC GROUP CLIENT_ID SESSION_TIMEOUT_MS [GROUP_INSTANCE_ID]

Subscribes to TOPIC in GROUP (a static member when GROUP_INSTANCE_ID is given) (eager `range` assignor, auto commit off) and, for each record,
prints it and commits its offset synchronously before taking the next one, so at most one
record per member is ever consumed but not committed. A commit that fails while the group's
coordinator moves is retried (the commit must land before the member moves on); each failed
attempt is printed. JSON lines on stdout:
  {"t": ms, "assign": [partitions]}                  on_assign
  {"t": ms, "revoke": [partitions]}                  on_revoke
  {"t": ms, "lost": [partitions]}                    on_lost
  {"t": ms, "p": partition, "o": offset, "v": value} a record, before its commit
  {"t": ms, "committed": offset + 1, "p": partition} its commit succeeded
  {"t": ms, "commit_err": "..."}                     a commit attempt failed
  {"t": ms, "e": "..."}                              an error event the application saw
  {"closing": true}                                  SIGTERM: callbacks from here on are the close's own
  {"done": true}
"""
import json
import signal
import sys
import time

from confluent_kafka import Consumer, KafkaException

bootstrap, topic, group, client_id, session_timeout_ms, *instance = sys.argv[1:]


def emit(o):
    sys.stdout.write(json.dumps(o) + "\n")
    sys.stdout.flush()


def now_ms():
    return int(time.time() * 1000)


stop = {"now": False}
signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))

static = {"group.instance.id": instance[0]} if instance else {}
c = Consumer({
    **static,
    "bootstrap.servers": bootstrap,
    "group.id": group,
    "client.id": client_id,
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "partition.assignment.strategy": "range",
    "session.timeout.ms": int(session_timeout_ms),
    "heartbeat.interval.ms": 1000,
    "socket.timeout.ms": 10000,
    "topic.metadata.refresh.interval.ms": 5000,
})


def callback(kind):
    def report(consumer, partitions):
        emit({"t": now_ms(), kind: [p.partition for p in partitions]})
    return report


c.subscribe([topic], on_assign=callback("assign"), on_revoke=callback("revoke"), on_lost=callback("lost"))


def commit(m):
    # Bounded only so a broken cluster ends the member instead of hanging it; the test fails first.
    give_up = time.time() + 300
    while not stop["now"]:
        try:
            c.commit(message=m, asynchronous=False)
            emit({"t": now_ms(), "committed": m.offset() + 1, "p": m.partition()})
            return
        except KafkaException as e:
            emit({"t": now_ms(), "commit_err": str(e.args[0])})
            if time.time() > give_up:
                return
            time.sleep(0.2)


while not stop["now"]:
    m = c.poll(0.2)
    if m is None:
        continue
    if m.error():
        emit({"t": now_ms(), "e": str(m.error())})
        continue
    emit({"t": now_ms(), "p": m.partition(), "o": m.offset(), "v": m.value().decode()})
    commit(m)

emit({"closing": True})
c.close()
emit({"done": True})
