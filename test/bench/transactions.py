"""Transactions benchmark driver (confluent_kafka / librdkafka), run by transactions.bench.ts.

argv: bootstrap messages txn_size small_txns
Prints one JSON line: records/s for idempotent produce and transactional produce (transactions of
txn_size records) of the same messages, small transactions (1 record) per second, and records/s of
read_committed and read_uncommitted consumers of the transactional topic.
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition

bootstrap, messages, txn_size, small_txns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
value = b'x' * 100
suffix = str(int(time.time() * 1000))


def idempotent(topic):
    p = Producer({'bootstrap.servers': bootstrap, 'enable.idempotence': True, 'linger.ms': 5})
    started = time.time()
    for i in range(messages):
        while True:
            try:
                p.produce(topic, value=value)
                break
            except BufferError:
                p.poll(0.01)
    p.flush(120)
    return messages / (time.time() - started)


def transactional(topic, size, count, txn_id):
    p = Producer({'bootstrap.servers': bootstrap, 'transactional.id': txn_id, 'linger.ms': 5})
    p.init_transactions(60)
    started = time.time()
    for _ in range(count):
        p.begin_transaction()
        for _ in range(size):
            while True:
                try:
                    p.produce(topic, value=value)
                    break
                except BufferError:
                    p.poll(0.01)
        p.commit_transaction(60)
    return count / (time.time() - started)


def consume(topic, isolation, expected):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'bench-%s-%s' % (isolation, suffix),
                  'enable.auto.commit': False, 'isolation.level': isolation})
    c.assign([TopicPartition(topic, 0, 0)])
    seen, started = 0, None
    while seen < expected:
        batch = c.consume(10000, 10)
        if started is None and batch:
            started = time.time()
        seen += sum(1 for m in batch if not m.error())
    rate = seen / (time.time() - started)
    c.close()
    return rate


idem = idempotent('bench-idem-' + suffix)
txn_topic = 'bench-txn-' + suffix
txns_per_s = transactional(txn_topic, txn_size, messages // txn_size, 'bench-txn-' + suffix)
small = transactional('bench-small-' + suffix, 1, small_txns, 'bench-small-' + suffix)
print(json.dumps({
    'idempotent_records_per_s': round(idem),
    'transactional_records_per_s': round(txns_per_s * txn_size),
    'small_transactions_per_s': round(small, 1),
    'read_committed_records_per_s': round(consume(txn_topic, 'read_committed', messages)),
    'read_uncommitted_records_per_s': round(consume(txn_topic, 'read_uncommitted', messages)),
}))
