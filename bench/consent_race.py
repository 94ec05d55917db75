"""Reproduce lost consent records under concurrent decisions on SQLite (found by `make bench`).

    python -m bench.consent_race [--threads 15] [--rounds 10]

The action server records decisions with ``asyncio.to_thread(consent_store.append, ...)``,
so decisions of several patients arriving together append from several threads at
once. On SQLite each append reads the chain's head and inserts after it; two
threads reading the same head collide on the unique ``prev_hash`` and retry, and
after ``attempts`` collisions the record is lost (the patient is told it failed).
PostgreSQL is not affected (``pg_advisory_xact_lock`` serialises appends).
Prints how many of the appends were stored; exits 1 if any was lost.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import threading

from bot import consent_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.consent_race", description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--url", help="database URL (default: a new SQLite file)")
    args = parser.parse_args(argv)
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='consent-race-')}/assistant.db"
    consent_store.records(url=url)  # creates the table
    before = len(consent_store.records(url=url))
    errors: collections.Counter[str] = collections.Counter()

    def decide(number: int) -> None:
        try:
            consent_store.append(f"race-{number}", "rest", "go_ahead", {"n": number}, "race", url=url)
        except Exception as error:
            errors[type(error).__name__] += 1

    for round_ in range(args.rounds):
        threads = [threading.Thread(target=decide, args=(round_ * args.threads + i,)) for i in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    wanted = args.rounds * args.threads
    stored = len(consent_store.records(url=url)) - before
    print(f"{stored} of {wanted} concurrent appends stored; errors: {dict(errors) or 'none'}; "
          f"chain ok: {consent_store.verify(url).ok}")
    return 0 if stored == wanted else 1


if __name__ == "__main__":
    sys.exit(main())
