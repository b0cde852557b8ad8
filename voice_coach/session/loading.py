"""Things slow to build (models, engines), built on a background thread only once started.

A session creates them before the greeting but starts them after the greeting's first sample:
on two cores, loading while the first line is synthesised delayed it by seconds.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Deferred(Generic[T]):
    """A value built once on its own daemon thread: after ``start()``, or when first needed."""

    def __init__(self, build: Callable[[], T], name: str) -> None:
        self.name = name
        self._build = build
        self._future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._lock = threading.Lock()
        self._started = False

    @classmethod
    def ready(cls, value: T, name: str = "value") -> Deferred[T]:
        """A Deferred that already holds its value (nothing to build)."""
        deferred = cls(lambda: value, name)
        deferred._started = True
        deferred._future.set_result(value)
        return deferred

    @property
    def started(self) -> bool:
        """True once building began (or the value was given)."""
        return self._started

    def start(self) -> Deferred[T]:
        """Begin building in the background (at most once); returns self."""
        with self._lock:
            if self._started:
                return self
            self._started = True
        # A daemon thread, not a pool: a load still running must not hold up the exit.
        threading.Thread(target=self._run, name=f"load-{self.name}", daemon=True).start()
        return self

    def _run(self) -> None:
        if not self._future.set_running_or_notify_cancel():
            return
        try:
            value = self._build()
        except BaseException as exc:  # handed to whoever asks for the value
            self._future.set_exception(exc)
        else:
            self._future.set_result(value)

    def done(self) -> bool:
        """True when the value (or its error) is there."""
        return self._future.done()

    def result(self, timeout: float | None = None) -> T:
        """The value, starting the build if nobody did; re-raises the build's error."""
        self.start()
        return self._future.result(timeout)
