"""One monotonic timeline for captured audio: when was each sample spoken?

The consumer may read a frame seconds after it was captured (a slow decode, a busy machine),
so the time a frame is *read* says nothing about when it was *spoken*. The capture callback
runs on time whatever the consumer does: each block is stamped there, and samples are counted.
A sample's time is then its count on the stream clock plus an offset anchored on the stamps:
the smallest recent ``stamp - count`` (a stamp can be late, when the callback was scheduled
late, but never early, because a block cannot be delivered before it was captured). Pure:
times are plain numbers given by the caller.
"""

from __future__ import annotations

from collections import deque


class CaptureClock:
    """Maps stream time (seconds of samples counted) to monotonic time."""

    def __init__(self, window: float = 10.0) -> None:
        self.window = window
        """Seconds of stamps the offset is the minimum of: long enough to find an on-time
        callback, short enough to follow a device clock that drifts or lost samples."""
        # (stamp, offset) pairs whose offsets increase: the head is the window's minimum.
        self._stamps: deque[tuple[float, float]] = deque()

    @property
    def anchored(self) -> bool:
        """True once a block was stamped."""
        return bool(self._stamps)

    @property
    def offset(self) -> float:
        """Monotonic time of stream time 0 (0.0 before any stamp)."""
        return self._stamps[0][1] if self._stamps else 0.0

    def stamp(self, stream_time: float, captured_at: float) -> None:
        """The sample at ``stream_time`` was captured at monotonic ``captured_at`` (or before)."""
        offset = captured_at - stream_time
        while self._stamps and self._stamps[-1][1] >= offset:
            self._stamps.pop()
        self._stamps.append((captured_at, offset))
        while self._stamps[0][0] < captured_at - self.window:
            self._stamps.popleft()

    def reanchor(self) -> None:
        """Samples were lost before they were counted: the next stamp sets the offset anew."""
        self._stamps.clear()

    def time_of(self, stream_time: float) -> float:
        """Monotonic time of the sample at ``stream_time``."""
        return stream_time + self.offset
