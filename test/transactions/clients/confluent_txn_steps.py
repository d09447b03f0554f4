"""A confluent_kafka transactional producer driven step by step over stdin, for failover tests.

argv: bootstrap topic transactional_id partitions
Prints one JSON line per step. Steps (one per stdin line):
  txn <name> <n> <commit|abort|open>   begin, produce n records "<name>-<i>" spread over the
                                       partitions, flush; then commit, abort or leave it open
  commit / abort                      end the open transaction
  read                                read_committed and read_uncommitted dumps of the topic
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

bootstrap, topic, txn_id, partitions = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


def say(**kw):
    kw['t'] = time.time()
    print(json.dumps(kw), flush=True)


producer = Producer({
    'bootstrap.servers': bootstrap, 'transactional.id': txn_id, 'transaction.timeout.ms': 120000,
    'message.timeout.ms': 120000,
})
producer.init_transactions(120)
say(step='init')


def end(commit):
    started = time.time()
    if commit:
        producer.commit_transaction(180)
    else:
        producer.abort_transaction(180)
    return time.time() - started


def read(isolation):
    c = Consumer({
        'bootstrap.servers': bootstrap, 'group.id': 'reader-%s-%f' % (isolation, time.time()),
        'enable.auto.commit': False, 'auto.offset.reset': 'earliest', 'isolation.level': isolation,
        'enable.partition.eof': True,
    })
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    values, eof = [], set()
    while len(eof) < partitions:
        m = c.poll(60)
        if m is None:
            raise RuntimeError('no end of partition within 60 s')
        if m.error():
            if m.error().code() == -191:
                eof.add(m.partition())
                continue
            raise KafkaException(m.error())
        values.append(m.value().decode())
    c.close()
    return values


for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    try:
        if words[0] == 'txn':
            name, n, how = words[1], int(words[2]), words[3]
            producer.begin_transaction()
            for i in range(n):
                producer.produce(topic, partition=i % partitions, value=('%s-%d' % (name, i)).encode())
            producer.flush(120)
            seconds = end(how == 'commit') if how != 'open' else 0
            say(step='txn', name=name, how=how, seconds=seconds)
        elif words[0] in ('commit', 'abort'):
            say(step=words[0], seconds=end(words[0] == 'commit'))
        elif words[0] == 'read':
            say(step='read', committed=read('read_committed'), uncommitted=read('read_uncommitted'))
    except KafkaException as e:
        err = e.args[0]
        say(step='error', code=err.name(), fatal=err.fatal(), message=err.str())
        sys.exit(1)
