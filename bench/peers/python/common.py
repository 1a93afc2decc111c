"""What the Python peers share: TechEmpower's rules and the environment the Rust DB servers read."""

import os
import random

ADDED_FORTUNE = "Additional fortune added at request time."


def database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        raise SystemExit("BENCH_DATABASE_URL is not set (bench/db/setup creates the database)")
    return url


def queries_param(raw) -> int:
    """TechEmpower's clamp: missing, empty, not a number or < 1 -> 1; > 500 -> 500."""
    try:
        n = int(raw)
    except (TypeError, ValueError):
        return 1
    return 1 if n < 1 else 500 if n > 500 else n


def random_id() -> int:
    return random.randint(1, 10000)


def new_random_number(old: int) -> int:
    while True:
        n = random.randint(1, 10000)
        if n != old:
            return n
