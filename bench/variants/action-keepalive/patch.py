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

_SESSIONS: dict[tuple[int, int], Any] = {}


def _patch(module: ModuleType) -> None:
    import aiohttp

    class _Shared(aiohttp.ClientSession):
        async def close(self) -> None:  # kept open for the next call
            return None

        async def __aexit__(self, *args: Any) -> None:
            return None

    def session(self: Any) -> Any:
        key = (id(asyncio.get_running_loop()), id(self))
        shared = _SESSIONS.get(key)
        if shared is None or shared.closed:
            auth = (aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                    if self.basic_auth else None)
            shared = _SESSIONS[key] = _Shared(
                headers=self.headers, auth=auth,
                timeout=aiohttp.ClientTimeout(total=module.DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=30),
            )
        return shared

    module.EndpointConfig.session = session


after_import("rasa.utils.endpoints", _patch)
