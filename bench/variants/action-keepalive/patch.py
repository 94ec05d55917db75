"""Variant: one aiohttp session per event loop for Rasa's calls to the action server (keep-alive).

``EndpointConfig.request`` does ``async with self.session()``, a new
``aiohttp.ClientSession`` - a new TCP connection - per call. Here ``session()``
hands out one shared session per loop whose ``close`` does nothing.
"""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

from _posthook import after_import  # bench/variants is on PYTHONPATH

_SESSIONS: dict[int, Any] = {}


def _patch(module: ModuleType) -> None:
    import aiohttp

    class _Shared(aiohttp.ClientSession):
        async def close(self) -> None:  # kept open for the next call
            return None

        async def __aexit__(self, *args: Any) -> None:
            return None

    def session(self: Any) -> Any:
        loop = asyncio.get_running_loop()
        key = id(loop)
        shared = _SESSIONS.get(key)
        if shared is None or shared.closed:
            shared = _SESSIONS[key] = _Shared(
                headers=self.headers, auth=self.auth,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=30),
            )
        return shared

    module.EndpointConfig.session = session


after_import("rasa.utils.endpoints", _patch)
