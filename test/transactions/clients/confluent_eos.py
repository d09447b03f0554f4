"""Exactly-once with confluent_kafka (librdkafka): consume-transform-produce in transactions.

argv: bootstrap in_topic out_topic group transactional_id
Fills in_topic with 10 records (plain producer), then one transactional producer copies the
first 5 inputs to out_topic and aborts, copies all 10 (with send_offsets_to_transaction) and
commits. A second producer with the same transactional.id then fences the first. Prints JSON:
what read_committed and read_uncommitted consumers see, the group's committed offset, and how
the fenced producer failed.
"""
import json
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

bootstrap, in_topic, out_topic, group, txn_id = sys.argv[1:6]

plain = Producer({'bootstrap.servers': bootstrap})
for i in range(10):
    plain.produce(in_topic, key=b'k%d' % i, value=b'in-%d' % i)
assert plain.flush(60) == 0

consumer = Consumer({
    'bootstrap.servers': bootstrap, 'group.id': group, 'enable.auto.commit': False,
    'auto.offset.reset': 'earliest', 'isolation.level': 'read_committed',
})
consumer.subscribe([in_topic])
inputs = []
while len(inputs) < 10:
    m = consumer.poll(30)
    assert m is not None, 'no input within 30 s'
    if m.error():
        raise KafkaException(m.error())
    inputs.append(m)

producer = Producer({'bootstrap.servers': bootstrap, 'transactional.id': txn_id, 'transaction.timeout.ms': 60000})
producer.init_transactions(60)

producer.begin_transaction()
for m in inputs[:5]:
    producer.produce(out_topic, key=m.key(), value=b'aborted-' + m.value())
producer.flush(60)
producer.abort_transaction(60)

producer.begin_transaction()
for m in inputs:
    producer.produce(out_topic, key=m.key(), value=b'committed-' + m.value())
positions = [TopicPartition(in_topic, 0, inputs[-1].offset() + 1)]
producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), 60)
producer.commit_transaction(60)
committed = consumer.committed([TopicPartition(in_topic, 0)], 30)[0].offset
consumer.close()

# A second instance with the same transactional.id fences the first.
zombie_error = None
successor = Producer({'bootstrap.servers': bootstrap, 'transactional.id': txn_id})
successor.init_transactions(60)
try:
    producer.begin_transaction()
    producer.produce(out_topic, value=b'zombie')
    producer.commit_transaction(30)
except KafkaException as e:
    err = e.args[0]
    zombie_error = {'code': err.name(), 'fatal': err.fatal()}
successor.begin_transaction()
successor.produce(out_topic, value=b'successor')
successor.commit_transaction(60)


def read_all(isolation):
    c = Consumer({
        'bootstrap.servers': bootstrap, 'group.id': group + '-' + isolation, 'enable.auto.commit': False,
        'auto.offset.reset': 'earliest', 'isolation.level': isolation, 'enable.partition.eof': True,
    })
    c.subscribe([out_topic])
    values = []
    while True:
        m = c.poll(30)
        assert m is not None, 'no end of partition within 30 s'
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                break
            raise KafkaException(m.error())
        values.append(m.value().decode())
    low, high = c.get_watermark_offsets(TopicPartition(out_topic, 0), 30)
    c.close()
    return values, high


committed_values, _ = read_all('read_committed')
uncommitted_values, high = read_all('read_uncommitted')
print(json.dumps({
    'committed': committed_values,
    'uncommitted': uncommitted_values,
    'group_offset': committed,
    'zombie_error': zombie_error,
    'high_watermark': high,
}))
