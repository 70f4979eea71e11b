#!/usr/bin/env python3
"""Before/after measurements for scripts/emulator.py (see docs/emulator.md).

    python3 scripts/emulator.py --port 4566 &              # patched
    python3 scripts/emulator.py --port 4567 --unpatched &  # plain moto, served the same way
    python3 test/emulator/measure.py --endpoint http://127.0.0.1:4566 --pid <emulator pid> [what...]

what: latency rss lost fifo standard  (default: all). Uses boto3 (installed with moto).
"""
from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

CFG = Config(max_pool_connections=64, retries={"max_attempts": 1}, region_name="us-east-1")


def client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=CFG,
    )


def rss_mb(pid: int | None) -> float:
    if not pid:
        return float("nan")
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def make_table(ddb: Any, n: int) -> str:
    name = f"measure-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    batches = [
        [
            {"PutRequest": {"Item": {"pk": {"S": f"item-{i}"}, "n": {"N": "0"}, "pad": {"S": "x" * 100}}}}
            for i in range(start, min(start + 25, n))
        ]
        for start in range(0, n, 25)
    ]

    def write(batch: list[dict[str, Any]]) -> None:
        req = {name: batch}
        while req:
            req = ddb.batch_write_item(RequestItems=req).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, batches))
    return name


def tx(ddb: Any, table: str, a: str, b: str, cond_ok: bool = True) -> bool:
    try:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": a}},
                        "UpdateExpression": "ADD n :one",
                        "ConditionExpression": "attribute_exists(pk)" if cond_ok else "attribute_not_exists(pk)",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": b}},
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )
        return True
    except ClientError as e:
        if e.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        return False


def latency(endpoint: str, sizes: list[int], samples: int) -> None:
    ddb = client(endpoint, "dynamodb")
    for n in sizes:
        t0 = time.monotonic()
        table = make_table(ddb, n)
        fill = time.monotonic() - t0
        times = []
        for _ in range(samples):
            a, b = random.sample(range(n), 2)
            t = time.monotonic()
            tx(ddb, table, f"item-{a}", f"item-{b}")
            times.append((time.monotonic() - t) * 1000)
        print(
            f"latency items={n:>6} fill={fill:5.1f}s tx p50={statistics.median(times):7.1f} ms "
            f"max={max(times):7.1f} ms (n={samples})",
            flush=True,
        )
        ddb.delete_table(TableName=table)


def rss(endpoint: str, pid: int | None, count: int) -> None:
    ddb = client(endpoint, "dynamodb")
    before = rss_mb(pid)
    table = make_table(ddb, 1000)
    t0 = time.monotonic()
    for i in range(count):
        a, b = random.sample(range(1000), 2)
        tx(ddb, table, f"item-{a}", f"item-{b}", cond_ok=(i % 5 != 0))  # 1 in 5 cancelled
        if (i + 1) % 500 == 0:
            print(f"rss after {i + 1} tx: {rss_mb(pid):.0f} MB ({time.monotonic() - t0:.0f}s)", flush=True)
    ddb.delete_table(TableName=table)
    print(f"rss before={before:.0f} MB after {count} tx on 1k items + DeleteTable={rss_mb(pid):.0f} MB", flush=True)


def lost(endpoint: str, writers: int) -> None:
    """Plain UpdateItems racing cancelled 2-item transactions on the same items."""
    ddb = client(endpoint, "dynamodb")
    table = make_table(ddb, 1000)
    cancelled = writers // 3

    def work(i: int) -> None:
        if i % 3 == 0:
            tx(ddb, table, "item-0", "item-1", cond_ok=False)  # always cancelled
        else:
            ddb.update_item(
                TableName=table,
                Key={"pk": {"S": f"item-{i % 2}"}},
                UpdateExpression="ADD n :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(work, range(writers)))
    total = sum(
        int(ddb.get_item(TableName=table, Key={"pk": {"S": f"item-{k}"}}, ConsistentRead=True)["Item"]["n"]["N"])
        for k in (0, 1)
    )
    expected = writers - len(range(0, writers, 3))
    print(f"lost updates: {expected - total} of {expected} (with {cancelled} cancelled tx racing)", flush=True)
    ddb.delete_table(TableName=table)


def fifo(endpoint: str, messages: int, groups: int, consumers: int) -> None:
    sqs = client(endpoint, "sqs")
    url = sqs.create_queue(
        QueueName=f"measure-{uuid.uuid4().hex[:8]}.fifo",
        Attributes={"FifoQueue": "true", "VisibilityTimeout": "30"},
    )["QueueUrl"]
    for start in range(0, messages, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "MessageBody": f"{i % groups}:{i}", "MessageGroupId": f"g{i % groups}",
                 "MessageDeduplicationId": str(i)}
                for i in range(start, min(start + 10, messages))
            ],
        )
    # one (group, batch) hold: from the receive's response to the start of its last delete request
    holds: dict[tuple[str, str], list[Any]] = {}
    lock = threading.Lock()
    done = threading.Event()
    deleted = [0]

    def consumer(cid: int) -> None:
        batch_no = 0
        while not done.is_set():
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            t_recv = time.monotonic()
            batch = f"{cid}/{batch_no}"
            batch_no += 1
            for m in got:
                time.sleep(random.uniform(0, 0.003))
                group, seq = m["Body"].split(":")
                with lock:
                    hold = holds.setdefault((group, batch), [t_recv, 0.0, []])
                    hold[1] = time.monotonic()  # provably held until this delete starts
                    hold[2].append(int(seq))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                with lock:
                    deleted[0] += 1
                    if deleted[0] >= messages:
                        done.set()

    t0 = time.monotonic()
    threads = [threading.Thread(target=consumer, args=(i,)) for i in range(consumers)]
    for t in threads:
        t.start()
    done.wait(120)
    done.set()
    for t in threads:
        t.join()
    overlaps = out_of_order = 0
    by_group: dict[str, list[list[Any]]] = {}
    for (g, _batch), hold in holds.items():
        by_group.setdefault(g, []).append(hold)
    for g, hs in by_group.items():
        hs.sort(key=lambda h: h[0])
        for i, (r1, d1, _) in enumerate(hs):
            for r2, _d2, _s in hs[i + 1:]:
                if r2 >= d1:
                    break
                overlaps += 1  # another batch received the group while this one still held it
        seqs = [seq for h in hs for seq in h[2]]
        out_of_order += sum(1 for a, b in zip(seqs, seqs[1:]) if b < a)
    spans = [seq for hs in by_group.values() for h in hs for seq in h[2]]
    print(
        f"fifo: {len(spans)} msgs/{groups} groups/{consumers} consumers in {time.monotonic() - t0:.1f}s: "
        f"group overlaps={overlaps} out-of-order={out_of_order}",
        flush=True,
    )
    sqs.delete_queue(QueueUrl=url)


def standard(endpoint: str, messages: int, consumers: int) -> None:
    sqs = client(endpoint, "sqs")
    url = sqs.create_queue(QueueName=f"measure-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    for start in range(0, messages, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(start, min(start + 10, messages))],
        )
    seen: list[str] = []
    lock = threading.Lock()

    def consumer() -> None:
        idle = 0
        while idle < 2:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            idle = 0 if got else idle + 1
            for m in got:
                with lock:
                    seen.append(m["Body"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    t0 = time.monotonic()
    threads = [threading.Thread(target=consumer) for _ in range(consumers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(
        f"standard: {messages} msgs/{consumers} consumers in {time.monotonic() - t0:.1f}s: "
        f"received={len(seen)} duplicates={len(seen) - len(set(seen))} missing={messages - len(set(seen))}",
        flush=True,
    )
    sqs.delete_queue(QueueUrl=url)


def wake(endpoint: str) -> None:
    sqs = client(endpoint, "sqs")
    url = sqs.create_queue(QueueName=f"measure-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    out: list[float] = []
    for _ in range(5):
        t_sent: list[float] = []

        def poll() -> None:
            sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)
            out.append((time.monotonic() - t_sent[0]) * 1000)

        th = threading.Thread(target=poll)
        th.start()
        time.sleep(0.5)
        t_sent.append(time.monotonic())
        sqs.send_message(QueueUrl=url, MessageBody="x")
        th.join()
        for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    print("long-poll wake after send (ms): " + ", ".join(f"{x:.0f}" for x in out), flush=True)
    sqs.delete_queue(QueueUrl=url)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", default="http://127.0.0.1:4566")
    p.add_argument("--pid", type=int, default=None, help="emulator pid, for RSS")
    p.add_argument("--samples", type=int, default=30)
    p.add_argument("--rss-tx", type=int, default=1500)
    p.add_argument("what", nargs="*", default=["latency", "rss", "lost", "fifo", "standard", "wake"])
    a = p.parse_args()
    for w in a.what:
        if w == "latency":
            latency(a.endpoint, [100, 1000, 10000], a.samples)
        elif w == "rss":
            rss(a.endpoint, a.pid, a.rss_tx)
        elif w == "lost":
            lost(a.endpoint, 300)
        elif w == "fifo":
            fifo(a.endpoint, 1000, 10, 16)
        elif w == "standard":
            standard(a.endpoint, 2000, 16)
        elif w == "wake":
            wake(a.endpoint)


if __name__ == "__main__":
    main()
