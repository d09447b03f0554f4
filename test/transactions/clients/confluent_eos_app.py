"""A consume-transform-produce application, exactly once (confluent-kafka-python / librdkafka).

argv: bootstrap in_topic out_topic group transactional_id

Reads in_topic as a member of GROUP (read_committed, no auto commit) and copies each record to the
same partition of out_topic with the value prefixed `out:`, in transactions of up to 200 records
that also carry the consumer's next offsets (send_offsets_to_transaction, KIP-447 group
metadata). An abortable error aborts the transaction and rewinds the consumer to the group's
committed offsets; a fatal one exits 3 (the harness restarts it, as a supervisor would). Runs
until killed. JSON lines on stdout:
  {"t": ms, "produced": records}    a transaction's records are written, not yet committed
  {"t": ms, "committed": records}   a transaction committed
  {"t": ms, "aborted": "reason"}    a transaction aborted
  {"t": ms, "fatal": "reason"}      before exiting 3
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

bootstrap, in_topic, out_topic, group, txn_id = sys.argv[1:6]
# Failure detection, not speed: a busy machine and a cluster losing brokers may be slow.
TIMEOUT_S = 120


def emit(o):
    o["t"] = int(time.time() * 1000)
    sys.stdout.write(json.dumps(o) + "\n")
    sys.stdout.flush()


def retrying(call):
    """Runs a transactional call again while librdkafka says the error is retriable."""
    while True:
        try:
            return call()
        except KafkaException as e:
            if not e.args[0].retriable():
                raise


consumer = Consumer({
    "bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
    "auto.offset.reset": "earliest", "isolation.level": "read_committed",
    "session.timeout.ms": 6000, "partition.assignment.strategy": "range",
})
producer = Producer({
    "bootstrap.servers": bootstrap, "transactional.id": txn_id, "transaction.timeout.ms": 10000,
    "linger.ms": 5,
})
retrying(lambda: producer.init_transactions(TIMEOUT_S))
consumer.subscribe([in_topic])


def rewind():
    """Back to the group's committed offsets: what the aborted transaction read is read again."""
    assignment = consumer.assignment()
    if not assignment:
        return
    for tp in retrying(lambda: consumer.committed(assignment, TIMEOUT_S)):
        consumer.seek(TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING))


while True:
    batch = [m for m in consumer.consume(200, 1.0) if m.error() is None]
    if not batch:
        continue
    try:
        producer.begin_transaction()
        nexts = {}
        for m in batch:
            producer.produce(out_topic, key=m.key(), value=b"out:" + m.value(), partition=m.partition())
            nexts[m.partition()] = m.offset() + 1
        producer.flush(TIMEOUT_S)
        emit({"produced": len(batch)})
        offsets = [TopicPartition(in_topic, p, o) for p, o in nexts.items()]
        retrying(lambda: producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), TIMEOUT_S))
        retrying(lambda: producer.commit_transaction(TIMEOUT_S))
        emit({"committed": len(batch)})
    except KafkaException as e:
        err = e.args[0]
        if not err.txn_requires_abort():
            emit({"fatal": str(err)})
            sys.exit(3)
        emit({"aborted": str(err)})
        retrying(lambda: producer.abort_transaction(TIMEOUT_S))
        rewind()
