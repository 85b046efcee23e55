#!/usr/bin/python3
"""Print what walcast-agent publishes, as a user's consumer would see it.

Usage: demo_consumer.py AMQP_URI QUEUE COUNT TIMEOUT_SECONDS

Consumes QUEUE with Debian's pika, prints each message's routing key,
message id and body, and exits 0 after COUNT messages, 1 on timeout.
"""
import json
import sys

import pika


def main():
    uri, queue, want, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    conn = pika.BlockingConnection(pika.URLParameters(uri))
    ch = conn.channel()
    seen = 0
    for method, props, body in ch.consume(queue, inactivity_timeout=timeout):
        if method is None:
            print(f"demo: timed out after {seen} of {want} events", file=sys.stderr)
            return 1
        try:
            shown = json.dumps(json.loads(body), ensure_ascii=False)
        except ValueError:
            shown = body.decode("utf-8", "replace")
        print(f"  {method.routing_key:<28} id={props.message_id}  {shown}")
        ch.basic_ack(method.delivery_tag)
        seen += 1
        if seen >= want:
            break
    ch.cancel()
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
