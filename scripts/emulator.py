#!/usr/bin/env python3
"""Local AWS emulator for EventTicket: moto 5.2.1 (DynamoDB + SQS on one port) with fixes.

    python3 scripts/emulator.py [--host 127.0.0.1] [--port 4566] [--unpatched]
                                [--dynamodb-upstream http://127.0.0.1:8000]
    (env: EMULATOR_HOST, EMULATOR_PORT, EMULATOR_DYNAMODB_UPSTREAM)

Prints ``emulator ready on http://HOST:PORT`` once the socket listens.
Readiness: ``GET /health`` -> 200 ``{"status": "ok"}`` (never takes a lock).

The patches (all applied here at start-up, moto's installed files are untouched):

1. DynamoDB lock: one process-wide lock around every request whose X-Amz-Target starts with
   ``DynamoDB`` (the response body is read inside the lock). Removes moto's lost updates. The prefix
   also takes DynamoDB Streams (``DynamoDBStreams_20120810.*``): a GetRecords never sees a stream
   shard while a cancelled transaction is being rolled back (patch 2 restores the shard too).
2. Fast TransactWriteItems: no deep copy of every touched table. All conditions are checked first
   against the current items; writes are applied with a backup of only the touched items, which is
   restored when the transaction is cancelled or fails validation. Wire format and error precedence
   are moto's own.
3. No instance tracking: ``BaseModel.__new__`` no longer appends every model object to
   ``instances_tracked`` (only read by the /moto-api dashboard; it kept every table copy alive).
4. SQS lock: a second lock around every SQS request (JSON protocol ``AmazonSQS.*`` targets, or
   query protocol requests signed for ``sqs``). A long poll lets go of the lock while it waits
   and is woken by a send (and, on FIFO queues, by a delete or visibility change that frees a group).
5. Keep-alive: served by Python's own ``http.server`` speaking HTTP/1.1 (each request body read in
   full, each response sent whole with Content-Length), so a client's connection and its server
   thread are reused across requests. werkzeug's dev server closes every connection.

6. One gateway (``--dynamodb-upstream URL``): every DynamoDB request (``X-Amz-Target:
   DynamoDB_*`` and DynamoDB Streams' ``DynamoDBStreams_20120810.*``, or signed for ``dynamodb``:
   Streams signs as ``dynamodb`` too) is forwarded as is to that engine (AWS's DynamoDB
   Local), over a kept-alive connection per server thread, and its answer returned as is; SQS
   stays here. So one port answers both services, as LocalStack's gateway does. ``GET /health``
   names the upstream (``dynamodbUpstream``).

7. Partition Query: a Query on the table's own hash key (no IndexName) reads only that
   partition's items (``table.items[hash_key]``) instead of moto's ``all_items()``, which lists
   and sorts the whole table on every Query. moto's own ``Table.query`` still does everything else
   (sort-key conditions, ScanIndexForward, Limit, ExclusiveStartKey/LastEvaluatedKey, filters,
   projections, ScannedCount, consumed capacity), so answers are unchanged; index queries keep
   moto's path. ``GET /_emulator/stats`` counts the items Query handed to moto's loop
   (``queryItemsExamined``), so a test can show a partition Query's work does not grow with the
   table.

See docs/emulator.md for measurements.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, Iterable

DDB_LOCK = threading.Lock()
SQS_LOCK = threading.Lock()
_tls = threading.local()

# Longest a waiting long poll sleeps before rescanning its queue on its own. Sends (and, on FIFO
# queues, deletes / visibility changes) wake waiters at once; the rescan only catches messages that
# become visible by themselves (visibility timeout expiry, DelaySeconds).
LONG_POLL_SLICE_S = 0.1


# --------------------------------------------------------------------------------------------
# 3. No instance tracking
# --------------------------------------------------------------------------------------------
def patch_instance_tracking() -> None:
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import reset_model_data

    def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
        return object.__new__(cls)

    BaseModel.__new__ = staticmethod(_untracked_new)  # type: ignore[assignment]
    reset_model_data()


# --------------------------------------------------------------------------------------------
# 2. Fast TransactWriteItems
# --------------------------------------------------------------------------------------------
def patch_transact_write_items() -> None:
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend

    _MISSING = object()

    class _Backup:
        """Backup of the items one transaction touches (not of whole tables)."""

        def __init__(self) -> None:
            # (table, hash DynamoType, range DynamoType|None, deep copy of the Item or None)
            self.items: list[tuple[Any, Any, Any, Any]] = []
            # table -> length of its stream shard before the transaction
            self.streams: dict[int, tuple[Any, int]] = {}

        def save(self, table: Any, hash_key: Any, range_key: Any) -> None:
            current = table.get_item(hash_key, range_key)
            self.items.append((table, hash_key, range_key, copy.deepcopy(current)))
            shard = table.stream_shard
            if shard is not None and id(table) not in self.streams:
                self.streams[id(table)] = (table, len(shard.items))

        def restore(self) -> None:
            for table, hash_key, range_key, old in reversed(self.items):
                if range_key is not None:
                    bucket = table.items.get(hash_key, _MISSING)
                    if old is not None:
                        table.items[hash_key][range_key] = old
                    elif bucket is not _MISSING:
                        bucket.pop(range_key, None)
                else:
                    if old is not None:
                        table.items[hash_key] = old
                    else:
                        table.items.pop(hash_key, None)
            for table, length in self.streams.values():
                shard = table.stream_shard
                if shard is not None and len(shard.items) >= length:
                    del shard.items[length:]

    def _key_values(backend: Any, table: Any, op_type: str, op: dict[str, Any]) -> tuple[Any, Any]:
        from moto.dynamodb.models.dynamo_type import DynamoType

        if op_type == "Put":
            attrs = op["Item"]
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
            return hash_key, range_key
        return backend.get_keys_value(table, op["Key"])

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()

        target_items: set[tuple[str, str]] = set()

        def check_unicity(table_name: str, key: dict[str, Any]) -> None:
            item = (str(table_name), str(dict(sorted(key.items()))))
            if item in target_items:
                raise MultipleTransactionsException()
            target_items.add(item)

        # Phase 1: every condition against the current items, nothing written yet. Same per-item
        # logic and error capture as moto's transact_write_items. Since one transaction may touch
        # an item only once, checking all conditions first sees exactly what moto's sequential
        # loop saw (and what AWS specifies: all conditions see the state before the transaction).
        errors: list[tuple[Any, Any, Any]] = []
        checked: list[bool] = []
        for item in transact_items:
            original_item: dict[str, Any] | None = None
            if len(list(item.keys())) > 1:
                raise TransactWriteSingleOpException
            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")
                table_name = op["TableName"]
                condition_expression = op.get("ConditionExpression")
                if op_type == "Put":
                    attrs = op["Item"]
                    table = self.get_table(table_name)
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]
                check_unicity(table_name, key)
                current = self.get_item(table_name, key)
                if condition_expression is not None:
                    condition_op = get_filter_expression(
                        condition_expression,
                        op.get("ExpressionAttributeNames"),
                        op.get("ExpressionAttributeValues"),
                    )
                    if not condition_op.expr(current):
                        if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)
                errors.append((None, None, None))
                checked.append(True)
            except (MultipleTransactionsException, MockValidationException):
                raise  # nothing written yet: nothing to roll back
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), original_item))
                checked.append(False)
            except Exception as e:  # noqa: BLE001 - same capture as moto
                errors.append((type(e).__name__, str(e), original_item))
                checked.append(False)

        # Phase 2: apply the writes of the items that passed, backing up only those items. moto
        # applies the other items even when one failed (then rolls back), so a validation error in
        # a later item wins over the cancellation; keep that precedence. All of this runs under
        # the DynamoDB lock, so no other request ever sees a write that is rolled back.
        backup = _Backup()
        try:
            for index, item in enumerate(transact_items):
                if not checked[index]:
                    continue
                op_type, op = next(iter(item.items()))
                if op_type == "ConditionCheck":
                    continue
                table_name = op["TableName"]
                names = op.get("ExpressionAttributeNames")
                values = op.get("ExpressionAttributeValues")
                condition_expression = op.get("ConditionExpression")
                try:
                    table = self.get_table(table_name)
                    hash_key, range_key = _key_values(self, table, op_type, op)
                    backup.save(table, hash_key, range_key)
                    if op_type == "Put":
                        self.put_item(
                            table_name,
                            op["Item"],
                            condition_expression=condition_expression,
                            expression_attribute_names=names,
                            expression_attribute_values=values,
                        )
                    elif op_type == "Delete":
                        self.delete_item(
                            table_name,
                            op["Key"],
                            condition_expression=condition_expression,
                            expression_attribute_names=names,
                            expression_attribute_values=values,
                        )
                    elif op_type == "Update":
                        self.update_item(
                            table_name,
                            op["Key"],
                            update_expression=op["UpdateExpression"],
                            condition_expression=condition_expression,
                            expression_attribute_names=names,
                            expression_attribute_values=values,
                        )
                except (MultipleTransactionsException, MockValidationException):
                    raise
                except ConditionalCheckFailed as e:
                    errors[index] = ("ConditionalCheckFailed", str(e.message), None)
                except Exception as e:  # noqa: BLE001 - same capture as moto
                    errors[index] = (type(e).__name__, str(e), None)
        except BaseException:
            backup.restore()
            raise

        if any(code is not None for code, _, _ in errors):
            backup.restore()
            raise TransactionCanceledException(errors)

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------------
# 4. SQS: long polls release the SQS lock while they wait
# --------------------------------------------------------------------------------------------
def patch_sqs() -> None:
    from moto.sqs.models import Queue, SQSBackend

    def wait_for_messages(self: Any, timeout: float) -> None:
        """Wait for a send on this queue, without holding the SQS request lock meanwhile."""
        cond = self._messages_lock
        held = getattr(_tls, "sqs_lock_held", False)
        try:
            with cond:
                # Take the condition before dropping the request lock: a send (which needs the
                # request lock, then the condition) cannot slip in between and be missed.
                if held:
                    _tls.sqs_lock_held = False
                    SQS_LOCK.release()
                cond.wait(timeout)
        finally:
            if held:
                SQS_LOCK.acquire()
                _tls.sqs_lock_held = True

    def _notify(queue: Any, waiters: int) -> None:
        cond = queue._messages_lock
        with cond:
            cond.notify(waiters)

    original_receive = SQSBackend.receive_message

    def receive_message(
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:
        # One non-waiting scan at a time (moto's own scan, with a fresh snapshot of the FIFO
        # groups in flight); between scans, wait outside the lock. moto's own loop kept the
        # snapshot of in-flight groups from before the wait, which is wrong once other consumers
        # may run during the wait.
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            result = original_receive(
                self, queue_name, count, 0, visibility_timeout, message_attribute_names
            )
            remaining = deadline - time.monotonic()
            if result or remaining <= 0:
                return result
            self.get_queue(queue_name).wait_for_messages(min(remaining, LONG_POLL_SLICE_S))

    original_queue_delete = Queue.delete_message

    def queue_delete_message(self: Any, receipt_handle: str) -> None:
        if not self.fifo_queue:
            return original_queue_delete(self, receipt_handle)
        held_before = self.pending_message_groups
        original_queue_delete(self, receipt_handle)
        freed = held_before - self.pending_message_groups
        if freed:
            # Wake one waiting long poll per group freed (not all of them: every woken poll
            # rescans the whole queue under the lock; the others rescan on their own soon).
            _notify(self, len(freed))
        return None

    original_change_visibility = SQSBackend.change_message_visibility

    def change_message_visibility(
        self: Any, queue_name: str, receipt_handle: str, visibility_timeout: int
    ) -> None:
        original_change_visibility(self, queue_name, receipt_handle, visibility_timeout)
        if int(visibility_timeout) == 0:
            _notify(self.get_queue(queue_name), 1)  # a message is visible again

    # Cost per received message: moto checks each message's retention by computing *all* queue
    # attributes three times (ApproximateNumberOfMessages* scan the whole queue), so a receive cost
    # O(backlog) per message returned. Read the one attribute instead: same rule, same result.
    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > time.time()

    # moto's clock (unix_time via datetime arithmetic, ~1 us) is read per message per scan
    # (Message.visible / .delayed). Same value from time.time() when no datetime is passed.
    import moto.sqs.models as sqs_models

    slow_unix_time = sqs_models.unix_time
    slow_unix_time_millis = sqs_models.unix_time_millis

    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else slow_unix_time(dt)

    def unix_time_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else slow_unix_time_millis(dt)

    sqs_models.unix_time = unix_time  # type: ignore[assignment]
    sqs_models.unix_time_millis = unix_time_millis  # type: ignore[assignment]
    SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period
    )
    Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]
    Queue.delete_message = queue_delete_message  # type: ignore[method-assign]
    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    SQSBackend.change_message_visibility = change_message_visibility  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------------
# 7. Partition Query: a Query on the table's hash key reads only that partition
# --------------------------------------------------------------------------------------------
# Counters for GET /_emulator/stats (written under the DynamoDB lock, read without it).
# queryItemsExamined: items moto's Query loop was handed (the partition's on the patched path, the
# whole table's on moto's own path); partitionQueries / indexQueries: Queries by path.
QUERY_STATS = {"partitionQueries": 0, "indexQueries": 0, "queryItemsExamined": 0}


def patch_partition_query() -> None:
    from moto.dynamodb.models.table import Table

    original_query = Table.query
    original_all_items = Table.all_items

    def all_items(self: Any) -> list[Any]:
        scope = getattr(_tls, "query_scope", None)
        if scope is None or scope[0] is not self:
            items = original_all_items(self)
            if getattr(_tls, "in_query", False):
                QUERY_STATS["queryItemsExamined"] += len(items)
            return items
        _tls.query_scope = None  # one listing per Query
        hash_key = scope[1]
        # table.items: {hash: Item} (hash-only table) or {hash: {range: Item}} (defaultdict; .get
        # does not create). DynamoType's __hash__/__eq__ agree (type, cast value), so this bucket
        # holds exactly the items moto's `item.hash_key == hash_key` keeps from the full listing.
        bucket = self.items.get(hash_key)
        if bucket is None:
            items = []
        elif self.range_key_attr:
            items = list(bucket.values())
        else:
            items = [bucket]
        QUERY_STATS["queryItemsExamined"] += len(items)
        # moto's all_items order (hash, then range); moto's query sorts by range key again.
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    def query(
        self: Any,
        hash_key: Any,
        range_comparison: Any,
        range_objs: Any,
        limit: Any,
        exclusive_start_key: Any,
        scan_index_forward: Any,
        projection_expressions: Any,
        index_name: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        partition = not index_name and hash_key is not None
        QUERY_STATS["partitionQueries" if partition else "indexQueries"] += 1
        # moto's table query keeps `item.hash_key == hash_key` from all_items(); scoping that one
        # listing to the partition changes which items are looked at, never which are kept.
        _tls.query_scope = (self, hash_key) if partition else None
        _tls.in_query = True
        try:
            return original_query(
                self,
                hash_key,
                range_comparison,
                range_objs,
                limit,
                exclusive_start_key,
                scan_index_forward,
                projection_expressions,
                index_name,
                *args,
                **kwargs,
            )
        finally:
            _tls.query_scope = None
            _tls.in_query = False

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------------
# 1 + 4. The WSGI wrapper: health, DynamoDB lock, SQS lock
# --------------------------------------------------------------------------------------------
def _signed_service(environ: dict[str, Any]) -> str:
    auth = environ.get("HTTP_AUTHORIZATION") or ""
    try:
        scope = auth.split(",")[0].split()[1]  # Credential=AKID/date/region/service/aws4_request
        return scope.split("/")[3].lower()
    except (IndexError, ValueError):
        return ""


def make_app(patched: bool, dynamodb_upstream: Any = None) -> Callable[..., Iterable[bytes]]:
    from moto.server import DomainDispatcherApplication, create_backend_app

    moto_app = DomainDispatcherApplication(create_backend_app)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/health" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            upstream = dynamodb_upstream.geturl() if dynamodb_upstream is not None else None
            body = json.dumps({"status": "ok", "patched": patched, "dynamodbUpstream": upstream}).encode()
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if path == "/_emulator/stats" and environ.get("REQUEST_METHOD") == "GET":
            body = json.dumps({"patched": patched, **(QUERY_STATS if patched else {})}).encode()
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if not patched:
            return moto_app(environ, start_response)

        target = environ.get("HTTP_X_AMZ_TARGET") or ""
        lock: threading.Lock | None = None
        is_sqs = False
        if target.startswith("DynamoDB"):
            lock = DDB_LOCK
        elif target.startswith("AmazonSQS"):
            lock, is_sqs = SQS_LOCK, True
        elif not target:
            service = _signed_service(environ)
            if service == "sqs":  # query protocol (Action=...)
                lock, is_sqs = SQS_LOCK, True
            elif service == "dynamodb":
                lock = DDB_LOCK
        if lock is None:
            return moto_app(environ, start_response)

        with lock:
            if is_sqs:
                _tls.sqs_lock_held = True
            try:
                result = moto_app(environ, start_response)
                try:
                    chunks = [bytes(chunk) for chunk in result]
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            finally:
                if is_sqs:
                    _tls.sqs_lock_held = False
        return chunks

    return app


# --------------------------------------------------------------------------------------------
# 5. An HTTP/1.1 keep-alive server for the WSGI app
# --------------------------------------------------------------------------------------------
def _is_dynamodb(headers: Any) -> bool:
    """Is this request for DynamoDB? By X-Amz-Target (JSON protocol), else by the SigV4 scope.

    ``DynamoDB_20120810.*`` and DynamoDB Streams' ``DynamoDBStreams_20120810.*`` both: the gateway
    forwards a table's stream reads to the engine that holds the table
    (test/infra/local-aws.test.ts reads a stream through it).
    """
    target = headers.get("X-Amz-Target") or ""
    if target:
        return target.startswith("DynamoDB")
    return _signed_service({"HTTP_AUTHORIZATION": headers.get("Authorization") or ""}) == "dynamodb"


def make_keepalive_server(
    host: str, port: int, app: Callable[..., Iterable[bytes]], dynamodb_upstream: Any = None
) -> Any:
    """A threading HTTP/1.1 server that keeps connections open (one thread per connection).

    werkzeug's dev server answers ``Connection: close`` on purpose (its handler cannot drain a
    request stream), so every SDK call cost a TCP connect and a new Python thread. Here each
    request body is read in full (Content-Length, or chunked), the WSGI app runs, and the whole
    response goes out in one write with its Content-Length, so the connection can carry the next
    request. The locks in ``make_app`` are unchanged: they are per request, not per connection.
    """
    import http.client
    import io
    import socket
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import unquote_to_bytes

    hop_by_hop = {"connection", "content-length", "transfer-encoding", "keep-alive", "date", "server"}

    def _upstream_connection() -> tuple[Any, bool]:
        """This server thread's connection to the DynamoDB upstream, and whether it was used before."""
        conn = getattr(_tls, "upstream", None)
        if conn is not None:
            return conn, True
        conn = http.client.HTTPConnection(dynamodb_upstream.hostname, dynamodb_upstream.port or 80, timeout=120)
        _tls.upstream = conn
        return conn, False

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "eventticket-emulator"
        sys_version = ""

        def setup(self) -> None:
            super().setup()
            # Headers and body leave in one write; no Nagle delay on small responses either.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass

        def _read_body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()  # CRLF after each chunk
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        def _handle(self) -> None:
            body = self._read_body()
            if dynamodb_upstream is not None and _is_dynamodb(self.headers):
                self._forward(body)
                return
            raw_path, _, query = self.path.partition("?")
            environ: dict[str, Any] = {
                "REQUEST_METHOD": self.command,
                "SCRIPT_NAME": "",
                "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
                "QUERY_STRING": query,
                "RAW_URI": self.path,
                "REQUEST_URI": self.path,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "SERVER_NAME": host,
                "SERVER_PORT": str(self.server.server_address[1]),
                "SERVER_PROTOCOL": self.request_version,
                "REMOTE_ADDR": self.client_address[0],
                "REMOTE_PORT": str(self.client_address[1]),
                "wsgi.version": (1, 0),
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(body),
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": True,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
            }
            for name, value in self.headers.items():
                key = "HTTP_" + name.upper().replace("-", "_")
                if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                    continue
                environ[key] = f"{environ[key]},{value}" if key in environ else value

            started: dict[str, Any] = {}

            def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
                started["status"], started["headers"] = status, headers
                return lambda data: None  # the legacy write() callable: moto never uses it

            try:
                result = app(environ, start_response)
                try:
                    payload = b"".join(bytes(chunk) for chunk in result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            except Exception as error:  # noqa: BLE001 - answer 500, keep serving
                started = {"status": "500 Internal Server Error", "headers": [("Content-Type", "text/plain")]}
                payload = f"emulator error: {type(error).__name__}: {error}".encode()
            code, _, reason = started["status"].partition(" ")
            head = [f"HTTP/1.1 {code} {reason}".encode("latin-1")]
            for name, value in started["headers"]:
                if name.lower() not in hop_by_hop:
                    head.append(f"{name}: {value}".encode("latin-1"))
            head.append(f"Content-Length: {len(payload)}".encode())
            head.append(f"Date: {self.date_time_string()}".encode())
            if self.close_connection:
                head.append(b"Connection: close")
            out = b"\r\n".join(head) + b"\r\n\r\n"
            if self.command != "HEAD":
                out += payload
            self.wfile.write(out)

        def _forward(self, body: bytes) -> None:
            """Sends the request to the DynamoDB upstream unchanged and relays its answer."""
            assert dynamodb_upstream is not None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in hop_by_hop}
            headers["Content-Length"] = str(len(body))
            status, reason, out_headers, payload = 502, "Bad Gateway", [("Content-Type", "text/plain")], b""
            for _attempt in (1, 2):
                conn, reused = _upstream_connection()
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    res = conn.getresponse()
                    payload = res.read()
                    status, reason, out_headers = res.status, res.reason, res.getheaders()
                    break
                except (OSError, http.client.HTTPException) as error:
                    conn.close()
                    _tls.upstream = None
                    payload = f"emulator: DynamoDB upstream {dynamodb_upstream.geturl()} failed: {error}".encode()
                    # Only a kept-alive connection the upstream closed while idle is retried (once, on
                    # a new one): the request never reached it. A fresh connection's failure is final.
                    if not (reused and isinstance(error, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError))):
                        break
            head = [f"HTTP/1.1 {status} {reason}".encode("latin-1")]
            for name, value in out_headers:
                if name.lower() not in hop_by_hop:
                    head.append(f"{name}: {value}".encode("latin-1"))
            head.append(f"Content-Length: {len(payload)}".encode())
            head.append(f"Date: {self.date_time_string()}".encode())
            if self.close_connection:
                head.append(b"Connection: close")
            self.wfile.write(b"\r\n".join(head) + b"\r\n\r\n" + (payload if self.command != "HEAD" else b""))

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256
        allow_reuse_address = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that hung up mid-response (a long poll it gave up on): nothing to do

    return Server((host, port), Handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="moto-based local AWS emulator (DynamoDB + SQS)")
    parser.add_argument("--host", default=os.environ.get("EMULATOR_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "4566")))
    parser.add_argument(
        "--dynamodb-upstream",
        default=os.environ.get("EMULATOR_DYNAMODB_UPSTREAM") or None,
        help="forward every DynamoDB request to this http://host:port (DynamoDB Local): one gateway",
    )
    parser.add_argument(
        "--unpatched",
        action="store_true",
        help="serve plain moto the same way (no locks, no patches): for before/after measurements",
    )
    args = parser.parse_args(argv)
    patched = not args.unpatched

    os.environ.setdefault("MOTO_PORT", str(args.port))
    if patched:
        patch_instance_tracking()
        patch_transact_write_items()
        patch_sqs()
        patch_partition_query()

    upstream = None
    if args.dynamodb_upstream:
        from urllib.parse import urlsplit

        upstream = urlsplit(args.dynamodb_upstream)
        if upstream.scheme != "http" or not upstream.hostname:
            parser.error(f"--dynamodb-upstream {args.dynamodb_upstream}: expected http://host:port")
    server = make_keepalive_server(args.host, args.port, make_app(patched, upstream), upstream)

    def stop(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    mode = "" if patched else " (UNPATCHED moto)"
    if upstream is not None:
        mode += f"; DynamoDB forwarded to {upstream.geturl()}"
    print(f"emulator ready on http://{args.host}:{server.server_address[1]}{mode}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    print("emulator stopped", flush=True)
    sys.stderr.flush()
    # Skip interpreter teardown: freeing a large in-memory state object by object can take
    # seconds, and there is nothing to persist.
    os._exit(0)


if __name__ == "__main__":
    main()
