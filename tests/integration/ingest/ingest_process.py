"""One ingest process for test_claims_processes.py: poll the shared store's due sources, round by round.

`python ingest_process.py NAME DATABASE_URL ROUNDS START_ISO SYNC_DIR`: for each round r it waits
until every process has written its ready file for r (a start line shared by the processes), then
runs poller.poll_due at START + r hours and prints each event it published as a JSON line.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from services.ingest.fetcher import make_client
from services.ingest.poller import poll_due
from services.ingest.settings import IngestSettings
from services.ingest.store import SqlStore


def start_line(sync: Path, name: str, round_no: int, processes: int = 2, wait_s: float = 120) -> None:
    (sync / f"ready-{round_no}-{name}").touch()
    deadline = time.monotonic() + wait_s
    while len(list(sync.glob(f"ready-{round_no}-*"))) < processes:
        if time.monotonic() > deadline:
            raise SystemExit(f"{name}: the other process never reached round {round_no}")
        time.sleep(0.005)


async def main(name: str, url: str, rounds: int, start: datetime, sync: Path) -> None:
    store = SqlStore(url)
    settings = IngestSettings(allow_private_addresses=True, fetch_concurrency=4, api_port=0, jitter_fraction=0.0)

    async def publish(event) -> None:
        await asyncio.sleep(0)  # a broker round trip lets the other pollers of this process run
        print(json.dumps({"process": name, "item_id": event.item.item_id, "event_id": event.event_id}), flush=True)

    async with make_client(settings) as client:
        for r in range(rounds):
            start_line(sync, name, r)
            reports = await poll_due(store, client, settings, publish, start + timedelta(hours=r))
            failed = [rep.source.id for rep in reports if rep.error]
            if failed:
                raise SystemExit(f"{name}: sources failed in round {r}: {failed}")


if __name__ == "__main__":
    name, url, rounds, start, sync = sys.argv[1:6]
    asyncio.run(main(name, url, int(rounds), datetime.fromisoformat(start), Path(sync)))
