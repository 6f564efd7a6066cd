"""Composing digests in worker processes, a page at a time, while the scheduler sends the last.

Rendering and building messages is CPU-bound Python: threads of one process take turns (the
GIL) with the SMTP connections and the database work. With `compose_processes` set, worker
processes compose a page while the scheduler's process sends the one before, so the two overlap
on a host with idle cores (on a busy one they only add the cost of moving the pages). Jobs
and intents are plain data (the due subscriber, their candidates; the delivery rows), and every
worker builds its own Composer from the same settings, so a message is the same bytes whichever
process composed it. Small pages are composed in the scheduler's own thread: starting and
feeding processes costs more than it saves there.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from zoneinfo import ZoneInfo

from services.notify.branding import Branding
from services.notify.compose import Composer, Intent, Visit
from services.notify.links import build_links
from services.notify.settings import NotifySettings

log = logging.getLogger(__name__)

#: Pages smaller than this are composed in the scheduler's thread.
MIN_JOBS = 64

_composer: Composer | None = None  # each worker's own


def composer_for(settings: NotifySettings) -> Composer:
    """A composer built from settings alone (a worker process has nothing else)."""
    brand = Branding(settings.library_name, settings.library_logo_url, settings.colour_primary,
                     settings.colour_text, settings.colour_background)
    return Composer(settings, build_links(settings), brand, ZoneInfo(settings.timezone))


def _start_worker(settings: NotifySettings) -> None:
    global _composer
    _composer = composer_for(settings)


def _compose(jobs: Sequence[Visit]) -> list[list[Intent]]:
    assert _composer is not None, "worker not initialised"
    return _composer.visit_all(jobs)


class ComposePool:
    """`processes` workers (started on first use), or none: compose in the calling thread."""

    def __init__(self, settings: NotifySettings, composer: Composer, processes: int) -> None:
        self.settings = settings
        self.composer = composer
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, jobs: Sequence[Visit]) -> Future[list[list[Intent]]]:
        """The intents of each job, in order, composed in the background where it pays."""
        if self.processes < 1 or len(jobs) < MIN_JOBS:
            return self._here(jobs)
        size = -(-len(jobs) // (self.processes * 4))  # a few chunks per worker keeps them all busy
        try:
            pool = self._workers()
            parts = [pool.submit(_compose, jobs[i : i + size]) for i in range(0, len(jobs), size)]
        except BrokenProcessPool as exc:
            log.error("compose workers failed; composing in the scheduler's thread", extra={"error": repr(exc)})
            self.processes = 0
            return self._here(jobs)
        whole: Future[list[list[Intent]]] = Future()
        lock = threading.Lock()  # parts finish in the pool's threads, maybe two at once

        def gather(_: Future[list[list[Intent]]]) -> None:
            with lock:
                if whole.done() or not all(p.done() for p in parts):
                    return
                failed = next((p.exception() for p in parts if p.exception() is not None), None)
                if failed is None:
                    whole.set_result([intents for p in parts for intents in p.result()])
                elif isinstance(failed, BrokenProcessPool):
                    # workers that cannot start or died: compose here from now on, loudly
                    log.error("compose workers failed; composing in the scheduler's thread", extra={"error": repr(failed)})
                    self.processes = 0
                    whole.set_result(self.composer.visit_all(jobs))
                else:
                    whole.set_exception(failed)

        for part in parts:
            part.add_done_callback(gather)
        return whole

    def _here(self, jobs: Sequence[Visit]) -> Future[list[list[Intent]]]:
        done: Future[list[list[Intent]]] = Future()
        done.set_result(self.composer.visit_all(jobs))
        return done

    def _workers(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the scheduler's process runs threads (SMTP, Kafka) a fork would copy mid-flight
            self._pool = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker, initargs=(self.settings,),
            )
            log.info("compose workers started", extra={"processes": self.processes})
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
