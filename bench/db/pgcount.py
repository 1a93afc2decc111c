"""A counting TCP proxy for the Postgres wire protocol (Python 3.11+, standard library).

bench/verify puts it between a server and Postgres to count what pg_stat_statements would (that
extension needs a server restart to load, so it is not used here): every statement executed and the
rows it returned or updated, grouped by table and kind ("world:select", "world:update",
"fortune:select", "other:begin", ...). It answers TLS and GSS encryption requests with "no", so the
stream stays readable. Nothing is changed on the way through.

    proxy = CountingProxy("127.0.0.1", 5432)
    port = proxy.start()              # listens on 127.0.0.1:<port>, in a background thread
    ...                               # a server connects to postgres://...@127.0.0.1:<port>/db
    before = proxy.snapshot(); ...; after = proxy.snapshot()
    proxy.stop()

How responses are matched to statements: each Execute (and each simple Query) is queued when the
client sends it; a Sync queues a marker. DataRow messages count as rows of the oldest queued
statement, CommandComplete closes it (its tag gives the rows an UPDATE touched), ReadyForQuery
drops everything up to the next marker (statements skipped after an error included).
"""

from __future__ import annotations

import asyncio
import re
import struct
import threading
from collections import Counter, deque
from dataclasses import dataclass, field

SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST = 80877103, 80877104, 80877102
_TABLE = re.compile(r"\b(world|fortune)\b", re.IGNORECASE)


def classify(sql: str) -> str:
    """`table:kind` for a statement, e.g. "world:select"; table "other" when it names neither."""
    words = sql.strip().split(None, 1)
    kind = words[0].lower().rstrip(";") if words else "empty"
    if kind == "with":  # WITH ... SELECT / UPDATE: the verb after the CTEs
        m = re.search(r"\)\s*(select|update|insert|delete)\b", sql, re.IGNORECASE)
        kind = m.group(1).lower() if m else kind
    m = _TABLE.search(sql)
    return f"{m.group(1).lower() if m else 'other'}:{kind}"


@dataclass
class _Pending:
    category: str
    simple: bool = False  # a simple Query: may complete several statements, ends with ReadyForQuery
    rows: int = 0


@dataclass
class Counts:
    """Totals since the proxy started; subtract two snapshots to count a window."""

    statements: Counter = field(default_factory=Counter)  # category -> statements executed
    rows: Counter = field(default_factory=Counter)  # category -> rows returned (SELECT) or affected
    errors: int = 0
    connections: int = 0

    def copy(self) -> Counts:
        return Counts(Counter(self.statements), Counter(self.rows), self.errors, self.connections)

    def __sub__(self, other: Counts) -> Counts:
        st = Counter(self.statements)
        st.subtract(other.statements)
        rows = Counter(self.rows)
        rows.subtract(other.rows)
        return Counts(+st, +rows, self.errors - other.errors, self.connections - other.connections)


class _Session:
    """One client connection: parses both directions and keeps the queue of pending statements."""

    def __init__(self, counts: Counts, lock: threading.Lock):
        self.counts, self.lock = counts, lock
        self.statements: dict[str, str] = {}  # prepared statement name -> SQL
        self.portals: dict[str, str] = {}  # portal name -> category
        self.queue: deque[_Pending | None] = deque()  # None = a Sync marker

    # client -> server
    def client_message(self, kind: bytes, body: bytes) -> None:
        if kind == b"P":
            name, rest = _cstr(body)
            sql, _ = _cstr(rest)
            self.statements[name] = sql
        elif kind == b"B":
            portal, rest = _cstr(body)
            stmt, _ = _cstr(rest)
            self.portals[portal] = classify(self.statements.get(stmt, ""))
        elif kind == b"E":
            portal, _ = _cstr(body)
            self._execute(_Pending(self.portals.get(portal, "other:unknown")))
        elif kind == b"Q":
            sql, _ = _cstr(body)
            self._execute(_Pending(classify(sql), simple=True))
            self.queue.append(None)
        elif kind == b"S":
            self.queue.append(None)

    def _execute(self, p: _Pending) -> None:
        self.queue.append(p)
        with self.lock:
            self.counts.statements[p.category] += 1

    # server -> client
    def server_message(self, kind: bytes, body: bytes) -> None:
        head = self.queue[0] if self.queue else None
        if kind == b"D" and head is not None:
            with self.lock:
                self.counts.rows[head.category] += 1
        elif kind == b"C" and head is not None:
            tag = body.rstrip(b"\0").decode("utf-8", "replace").split()
            if tag and tag[0] in ("UPDATE", "DELETE", "INSERT") and tag[-1].isdigit():
                with self.lock:
                    self.counts.rows[head.category] += int(tag[-1])
            if not head.simple:
                self.queue.popleft()
        elif kind in (b"s", b"I") and head is not None and not head.simple:
            self.queue.popleft()
        elif kind == b"E":
            with self.lock:
                self.counts.errors += 1
        elif kind == b"Z":
            while self.queue and self.queue.popleft() is not None:
                pass


def _cstr(b: bytes) -> tuple[str, bytes]:
    i = b.index(b"\0")
    return b[:i].decode("utf-8", "replace"), b[i + 1 :]


class CountingProxy:
    """Forwards 127.0.0.1:<port> to the real Postgres and counts statements and rows."""

    def __init__(self, pg_host: str, pg_port: int):
        self.pg_host, self.pg_port = pg_host, pg_port
        self.counts = Counts()
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.thread: threading.Thread | None = None
        self.port = 0

    def start(self) -> int:
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()
            server.close()
            self.loop.run_until_complete(server.wait_closed())
            self.loop.close()

        self.thread = threading.Thread(target=run, name="pgcount", daemon=True)
        self.thread.start()
        ready.wait(10)
        return self.port

    def stop(self) -> None:
        if self.thread:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.thread = None

    @staticmethod
    async def _shutdown() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def snapshot(self) -> Counts:
        with self.lock:
            return self.counts.copy()

    async def _client(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        session = _Session(self.counts, self.lock)
        try:
            sreader, swriter = await asyncio.open_connection(self.pg_host, self.pg_port)
        except OSError:
            cwriter.close()
            return
        with self.lock:
            self.counts.connections += 1
        try:
            # Start-up: untyped messages. Refuse encryption ourselves, forward the rest.
            while True:
                head = await creader.readexactly(8)
                length, code = struct.unpack("!ii", head)
                rest = await creader.readexactly(length - 8)
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    cwriter.write(b"N")
                    await cwriter.drain()
                    continue
                swriter.write(head + rest)
                await swriter.drain()
                if code == CANCEL_REQUEST:
                    return
                break
            await asyncio.gather(
                self._pump(creader, swriter, session.client_message),
                self._pump(sreader, cwriter, session.server_message),
                return_exceptions=True,  # one side ending closes the other; both then end
            )
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # a side closed, or the proxy is stopping
        finally:
            for w in (cwriter, swriter):
                w.close()

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, observe) -> None:
        try:
            while True:
                head = await reader.readexactly(5)
                body = await reader.readexactly(struct.unpack("!i", head[1:])[0] - 4)
                observe(head[:1], body)  # before forwarding: a reply can never overtake its request
                writer.write(head + body)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass  # this side closed: closing the writer ends the other direction too
        finally:
            writer.close()
