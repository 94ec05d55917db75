"""Speed-up ``action-server-connection``: connections to the action server kept open, JSON written by orjson.

Calls to the action server: each opened a new connection (a name look-up in a thread, a
TCP handshake, a new pool) and wrote the whole conversation as JSON (about 60 KB) with the
standard library, 0.4 ms a call. Connections are now kept open between calls (one pool per
event loop, idle ones closed after ``KEEPALIVE_SECONDS``, well before the action server's
own 5 s), and orjson writes the same JSON in a tenth of the time (falling back to the
standard library for anything it refuses; NaN is written as null).

Importing this module changes nothing in Rasa: ``bot.rasa.speedups.install()`` applies ``PATCHES``.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from typing import Any

import aiohttp
import orjson
from rasa.utils import endpoints as rasa_endpoints
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

# Dataclasses and dates go to ``_float_subclass`` (refused) as the standard library refuses them;
# numpy's float64 (a float) is written as a float, other numpy values are refused.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def _float_subclass(value: Any) -> float:
    if isinstance(value, float):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    """JSON text of ``value``, as ``json.dumps`` writes it: orjson where it can, else the standard library.

    Two differences, neither in a tracker Rasa sends: NaN and infinities (not JSON) are
    written as null instead of NaN/Infinity, and plain Enum members and UUIDs are written
    instead of refused.
    """
    try:
        return orjson.dumps(value, default=_float_subclass, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        return json.dumps(value)


KEEPALIVE_SECONDS = 1.0
_CONNECTORS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.TCPConnector] = weakref.WeakKeyDictionary()


def session(self: EndpointConfig) -> aiohttp.ClientSession:
    """``EndpointConfig.session`` (same headers, auth and time-out) on this loop's kept connections."""
    loop = asyncio.get_running_loop()
    connector = _CONNECTORS.get(loop)
    if connector is None or connector.closed:
        connector = _CONNECTORS[loop] = aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS)
    auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
    return aiohttp.ClientSession(
        headers=self.headers,
        auth=auth,
        json_serialize=dumps,
        connector=connector,
        connector_owner=False,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
    )


PATCHES: list[tuple[Any, str, Any]] = [(EndpointConfig, "session", session)]
# Every Rasa name the code above relies on. ``request`` opens and closes a ``session()`` per call (what
# the kept connections outlive); ``headers`` and ``basic_auth`` are instance attributes (assigned in
# the constructor); the time-out is the one Rasa's own ``session`` uses.
RASA_NAMES: list[tuple[Any, str]] = [
    (EndpointConfig, "session"),
    (EndpointConfig, "request"),
    (EndpointConfig, "headers"),
    (EndpointConfig, "basic_auth"),
    (rasa_endpoints, "DEFAULT_REQUEST_TIMEOUT"),
]
