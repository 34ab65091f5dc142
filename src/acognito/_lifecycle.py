"""``with`` / ``async with`` support for objects that own something to close."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

__all__ = ["AsyncClosing", "Closing"]

_A = TypeVar("_A", bound="AsyncClosing")
_S = TypeVar("_S", bound="Closing")


class AsyncClosing:
    """``async with obj:`` awaits ``obj._aopen()`` (nothing by default), returns ``obj``
    and awaits ``obj.aclose()`` on the way out."""

    async def aclose(self) -> None:
        raise NotImplementedError

    async def _aopen(self) -> None:
        """What ``async with`` does on the way in: nothing unless a subclass says."""

    async def __aenter__(self: _A) -> _A:
        await self._aopen()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class Closing:
    """``with obj:`` returns ``obj`` and calls ``obj.close()`` on the way out."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
