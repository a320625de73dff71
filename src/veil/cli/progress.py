"""A progress bar (frames, fps, ETA) on a terminal; nothing elsewhere."""

from __future__ import annotations

import sys
from types import TracebackType

from tqdm import tqdm


class Progress:
    def __init__(self, label: str, total: int | None, enabled: bool) -> None:
        self._bar = (
            tqdm(total=total, desc=label, unit="frame", file=sys.stderr, leave=False)
            if enabled
            else None
        )

    def update(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
