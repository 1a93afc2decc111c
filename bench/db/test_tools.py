"""Tests of the DB benchmark's own tools: the fortunes normaliser and checks of bench/verify, and
the statement counting of bench/db/pgcount.py. Standard library only, no server or database:

    python3 -m unittest discover -s bench/db -p 'test_*.py'
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import struct
import sys
import threading
import unittest
from pathlib import Path

DB_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(DB_DIR))
import pgcount  # noqa: E402


def _load_verify():
    loader = importlib.machinery.SourceFileLoader("bench_verify", str(DB_DIR.parent / "verify"))
    spec = importlib.util.spec_from_loader("bench_verify", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


verify = _load_verify()


def page(rows: list[tuple[int, str]], escape) -> str:
    """A fortunes page the way a server might write it, with its own escaping."""
    body = "".join(f"<tr><td>{i}</td><td>{escape(m)}</td></tr>" for i, m in rows)
    return ("<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
            f"<tr><th>id</th><th>message</th></tr>{body}</table></body></html>")


def sorted_fortunes() -> list[tuple[int, str]]:
    return sorted(verify.expected_fortunes() + [verify.ADDED_FORTUNE], key=lambda f: f[1])


def minimal_escape(m: str) -> str:
    return m.replace("&", "&amp;").replace("<", "&lt;")


def numeric_escape(m: str) -> str:
    return "".join(f"&#{ord(c)};" if c in "&<>\"'/" else c for c in m)


class FortunesNormaliser(unittest.TestCase):
    def test_the_data_file_holds_the_twelve_tfb_fortunes(self):
        fortunes = verify.expected_fortunes()
        self.assertEqual([i for i, _ in fortunes], list(range(1, 13)))
        self.assertIn((12, "フレームワークのベンチマーク"), fortunes)
        self.assertIn((6, "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen"), fortunes)

    def test_every_valid_escaping_is_accepted(self):
        want = verify.expected_fortunes_html()
        for escape in (verify.canonical, minimal_escape, numeric_escape):
            text = page(sorted_fortunes(), escape)
            self.assertEqual(verify.normalise_fortunes(text), want, escape.__name__)

    def test_layout_whitespace_and_ignored_tags_do_not_matter(self):
        text = page(sorted_fortunes(), verify.canonical)
        text = text.replace("<table>", '<table class="x">\n  <thead>').replace("<tr><td>0<", "</thead><tbody><tr><td>0<")
        text = text.replace("<head>", '<head><meta charset="utf-8"><link rel="icon" href="x">')
        self.assertEqual(verify.normalise_fortunes(text), verify.expected_fortunes_html())

    def test_unescaped_script_fails(self):
        text = page(sorted_fortunes(), lambda m: m)  # no escaping at all
        self.assertNotEqual(verify.normalise_fortunes(text), verify.expected_fortunes_html())

    def test_missing_added_fortune_or_wrong_order_fails(self):
        without = [f for f in sorted_fortunes() if f[0] != 0]
        self.assertNotEqual(verify.normalise_fortunes(page(without, verify.canonical)), verify.expected_fortunes_html())
        by_id = sorted(sorted_fortunes())
        self.assertNotEqual(verify.normalise_fortunes(page(by_id, verify.canonical)), verify.expected_fortunes_html())

    def test_space_between_references_is_kept(self):
        self.assertEqual(verify.normalise_fortunes("<td>a &lt; &gt; b</td>"), "<td>a &lt; &gt; b</td>")


class WorldChecks(unittest.TestCase):
    def test_world_objects(self):
        self.assertIsNone(verify.world_problem({"id": 1, "randomNumber": 10000}))
        for bad in ({"id": 1}, {"id": 1, "randomnumber": 2}, {"id": "1", "randomNumber": 2},
                    {"id": True, "randomNumber": 2}, {"id": 0, "randomNumber": 2},
                    {"id": 1, "randomNumber": 2, "x": 3}, [1, 2]):
            self.assertIsNotNone(verify.world_problem(bad), bad)

    def test_headers(self):
        from email.utils import formatdate
        ok = {"server": "x", "date": formatdate(usegmt=True), "content-type": "application/json",
              "content-length": "2"}
        self.assertEqual(verify.header_problems(ok, b"{}", "json"), [])
        self.assertTrue(verify.header_problems(dict(ok, **{"content-type": "text/html"}), b"{}", "json"))
        self.assertTrue(verify.header_problems(dict(ok, **{"content-type": "text/html"}), b"{}", "html"),
                        "HTML needs charset=utf-8")
        self.assertTrue(verify.header_problems(dict(ok, **{"content-length": "3"}), b"{}", "json"))
        self.assertTrue(verify.header_problems({k: v for k, v in ok.items() if k != "server"}, b"{}", "json"))
        self.assertTrue(verify.header_problems(dict(ok, date="Mon, 01 Jan 2001 00:00:00 GMT"), b"{}", "json"))


def msg(kind: bytes, body: bytes) -> tuple[bytes, bytes]:
    return kind, body


def parse(name: str, sql: str) -> tuple[bytes, bytes]:
    return msg(b"P", name.encode() + b"\0" + sql.encode() + b"\0" + struct.pack("!h", 0))


def bind(portal: str, stmt: str) -> tuple[bytes, bytes]:
    return msg(b"B", portal.encode() + b"\0" + stmt.encode() + b"\0" + b"\0\0\0\0\0\0")


def execute(portal: str = "") -> tuple[bytes, bytes]:
    return msg(b"E", portal.encode() + b"\0" + struct.pack("!i", 0))


class StatementCounting(unittest.TestCase):
    def session(self) -> tuple[pgcount._Session, pgcount.Counts]:
        counts = pgcount.Counts()
        return pgcount._Session(counts, threading.Lock()), counts

    def test_classify(self):
        self.assertEqual(pgcount.classify("SELECT id, randomnumber FROM world WHERE id = $1"), "world:select")
        self.assertEqual(pgcount.classify('SELECT "id", "message" FROM "fortune"'), "fortune:select")
        self.assertEqual(pgcount.classify("UPDATE world SET randomnumber = v.r FROM (…) v"), "world:update")
        self.assertEqual(pgcount.classify("BEGIN"), "other:begin")
        self.assertEqual(pgcount.classify("SELECT * FROM worldwide"), "other:select")

    def test_pipelined_queries_count_statements_and_rows(self):
        s, counts = self.session()
        s.client_message(*parse("s0", "SELECT id, randomnumber FROM world WHERE id = $1"))
        for _ in range(3):  # three pipelined executions of the prepared statement, a Sync after each
            s.client_message(*bind("", "s0"))
            s.client_message(*execute())
            s.client_message(b"S", b"")
        for _ in range(3):
            for kind, body in ((b"2", b""), (b"D", b"..."), (b"C", b"SELECT 1\0"), (b"Z", b"I")):
                s.server_message(kind, body)
        self.assertEqual(counts.statements, {"world:select": 3})
        self.assertEqual(counts.rows, {"world:select": 3})
        self.assertFalse(s.queue)

    def test_update_rows_come_from_the_command_tag(self):
        s, counts = self.session()
        s.client_message(*parse("", "UPDATE world SET randomnumber = 1 WHERE id = $1"))
        s.client_message(*bind("", ""))
        s.client_message(*execute())
        s.client_message(b"S", b"")
        for kind, body in ((b"1", b""), (b"2", b""), (b"C", b"UPDATE 20\0"), (b"Z", b"I")):
            s.server_message(kind, body)
        self.assertEqual(counts.rows, {"world:update": 20})

    def test_an_error_skips_to_the_sync(self):
        s, counts = self.session()
        s.client_message(*parse("a", "SELECT 1 FROM world"))
        s.client_message(*bind("", "a"))
        s.client_message(*execute())
        s.client_message(*bind("", "a"))
        s.client_message(*execute())  # skipped by the server after the error
        s.client_message(b"S", b"")
        s.client_message(*bind("", "a"))
        s.client_message(*execute())
        s.client_message(b"S", b"")
        for kind, body in ((b"E", b"error"), (b"Z", b"I"), (b"D", b"row"), (b"C", b"SELECT 1\0"), (b"Z", b"I")):
            s.server_message(kind, body)
        self.assertEqual(counts.errors, 1)
        self.assertEqual(counts.rows, {"world:select": 1}, "the row belongs to the statement after the Sync")
        self.assertFalse(s.queue)

    def test_snapshots_subtract(self):
        a = pgcount.Counts()
        a.statements["world:select"] = 5
        b = a.copy()
        b.statements["world:select"] += 3
        b.statements["fortune:select"] += 1
        d = b - a
        self.assertEqual(d.statements, {"world:select": 3, "fortune:select": 1})


if __name__ == "__main__":
    unittest.main()
