"""Worked consumer example for analysts (docs/analysts.md).

Reads one platform topic with confluent-kafka and decodes each value by its ce_type header, using the
contracts' descriptor set (docs/events.binpb) -- no code generation needed. Prints JSON lines.

    pip install confluent-kafka protobuf
    python docs/examples/consume_events.py --brokers 127.0.0.1:9092 --topic training.class.v1 --from-beginning
"""

import argparse
import json
import sys
import uuid
from pathlib import Path

from confluent_kafka import Consumer, KafkaError
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory


def load_contracts(path: Path) -> descriptor_pool.DescriptorPool:
    """A descriptor pool with every event contract (and google/protobuf/timestamp.proto)."""
    fds = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:  # buf writes dependencies first
        pool.Add(f)
    return pool


def main() -> int:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", default="127.0.0.1:9092")
    ap.add_argument("--topic", required=True, help="e.g. training.class.v1 (test runs: <namespace>.training.class.v1)")
    ap.add_argument("--group", default=None, help="consumer group; default: a throwaway one")
    ap.add_argument("--from-beginning", action="store_true")
    ap.add_argument("--exit", action="store_true", help="stop when no message arrives for 5 s")
    ap.add_argument("--descriptors", default=str(here.parent / "events.binpb"))
    args = ap.parse_args()

    pool = load_contracts(Path(args.descriptors))
    consumer = Consumer(
        {
            "bootstrap.servers": args.brokers,
            "group.id": args.group or f"analyst-{uuid.uuid4()}",
            "auto.offset.reset": "earliest" if args.from_beginning else "latest",
            "enable.auto.commit": args.group is not None,
        }
    )
    consumer.subscribe([args.topic])
    seen: set[str] = set()
    idle = 0.0
    try:
        while True:
            msg = consumer.poll(1.0)
            if msg is None:
                idle += 1.0
                if args.exit and idle >= 5.0:
                    return 0
                continue
            idle = 0.0
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise RuntimeError(msg.error())
            headers = {k: v.decode() for k, v in (msg.headers() or [])}
            # At-least-once delivery: the same event (same ce_id) can arrive twice.
            if headers.get("ce_id") in seen:
                continue
            seen.add(headers.get("ce_id", ""))
            event_type = headers.get("ce_type", "")
            try:
                cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(event_type))
            except KeyError:
                # A newer event type than this descriptor set knows: skip it (contracts only grow).
                print(f"skipping unknown type {event_type}", file=sys.stderr)
                continue
            payload = cls.FromString(msg.value())
            print(
                json.dumps(
                    {
                        "topic": msg.topic(),
                        "partition": msg.partition(),
                        "offset": msg.offset(),
                        "id": headers.get("ce_id"),
                        "type": event_type,
                        "subject": headers.get("ce_subject"),
                        "time": headers.get("ce_time"),
                        "data": json_format.MessageToDict(payload),
                    },
                    ensure_ascii=False,
                ),
                flush=True,
            )
    finally:
        consumer.close()


if __name__ == "__main__":
    sys.exit(main())
