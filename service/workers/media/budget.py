"""The process's budget of decoded pixels: every piece of image work (an upload's check, a
photo's or avatar's rendering) holds its share of the budget from before it decodes until its
thread is done, so the memory all of them use at once stays bounded whatever arrives.

A decoded image costs up to 4 bytes a pixel (Pillow keeps RGB as RGBX), and its rendering
adds a reduced copy of at most a quarter of that, so a budget of N pixels bounds image memory
at about 5·N bytes. The default (settings ``media.image_pixel_budget``, 40 MP) is one image at
the largest size accepted (images.MAX_PIXELS), about 200 MB.

Work is admitted first come, first served: a large image waiting for room is not overtaken by
a stream of small ones. An image larger than the whole budget (possible only when the budget
is set below images.MAX_PIXELS, which refuses anything larger at upload) is not refused: it
waits until nothing else holds any of the budget and then runs alone, so the bound becomes
that one image, the least any service accepting it can do.
"""

from __future__ import annotations

import asyncio
import collections
import ctypes
import ctypes.util
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# After work that decoded at least this many pixels (4 MB at 4 bytes a pixel), memory the
# allocator kept is given back to the system (see release_memory). Trimming costs about 2 ms
# (against about 90 ms to render a 40 MP JPEG); below this there is little to win.
TRIM_AFTER_PIXELS = 1_000_000


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to call
        return None


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Hand freed heap memory back to the system. Pillow allocates an image in blocks of up to
    16 MB, below glibc's adaptive mmap threshold once that has grown, so they come from the
    malloc arenas (one per thread) and stay resident after they are freed; without this a
    process keeps its largest image's worth of memory for good. Blocking (it walks the free
    lists): call it in the thread that did the work."""
    if _TRIM is not None:
        _TRIM(0)


class PixelBudget:
    """An asyncio semaphore counted in pixels. ``held`` and ``peak`` tell how much is in use
    and the most ever in use at once."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a pixel budget needs at least one pixel")
        self.capacity = capacity
        self.held = 0
        self.peak = 0
        self._waiting: collections.deque[tuple[int, asyncio.Future[None]]] = collections.deque()

    def _share(self, pixels: int) -> int:
        # More than the whole budget waits for all of it: such an image runs alone.
        return min(max(0, pixels), self.capacity)

    def _take(self, share: int) -> None:
        self.held += share
        self.peak = max(self.peak, self.held)

    async def acquire(self, pixels: int) -> int:
        """Wait until ``pixels`` fit; returns the share taken, to give to ``release``."""
        share = self._share(pixels)
        if share == 0:  # holds no pixels, so it has nobody to wait for
            return 0
        if not self._waiting and self.held + share <= self.capacity:
            self._take(share)
            return share
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append((share, waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # admitted as it was cancelled
                self.release(share)
            else:
                self._waiting.remove((share, waiter))
                self._admit()  # it may have been the head that kept smaller ones waiting
            raise
        return share

    def release(self, share: int) -> None:
        self.held -= share
        self._admit()

    def _admit(self) -> None:
        while self._waiting:
            share, waiter = self._waiting[0]
            if self.held + share > self.capacity:
                return
            self._waiting.popleft()
            self._take(share)
            waiter.set_result(None)

    async def run(
        self, pixels: int, executor: Executor, work: Callable[..., T], *args: object
    ) -> T:
        """``work(*args)`` in ``executor`` once ``pixels`` fit, holding them until the thread
        returns. A thread cannot be stopped: when the caller is cancelled, the pixels stay
        held until the work really ends."""
        share = await self.acquire(pixels)
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(executor, _then_release_memory, pixels, work, *args)
        except BaseException:
            self.release(share)
            raise
        future.add_done_callback(lambda done: self._finished(share, done))
        return await asyncio.shield(future)

    def _finished(self, share: int, future: asyncio.Future) -> None:
        if not future.cancelled():
            future.exception()  # read here, so an abandoned failure is not reported as lost
        self.release(share)


def _then_release_memory(pixels: int, work: Callable[..., T], *args: object) -> T:
    try:
        return work(*args)
    finally:
        if pixels >= TRIM_AFTER_PIXELS:
            release_memory()
