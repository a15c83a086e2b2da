"""Configuration of the consultation rooms and the hub's media roles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

RelayPolicy = Literal["auto", "relay"]


@dataclass(frozen=True)
class RtcConfig:
    """How ``/consult`` and the aiortc peers behave."""

    ice_servers: Sequence[dict[str, Any]] = field(default_factory=tuple)
    """RTCIceServer objects (STUN/TURN) handed to browsers at join (setting ``ICE_SERVERS``).
    The hub's own aiortc peers use none: they sit on the hub's addresses."""
    relay_timeout: float = 5.0
    """Seconds a direct connection may take to connect before the pages ask for relay mode
    (setting ``RELAY_TIMEOUT``)."""
    relay_policy: RelayPolicy = "auto"
    """``auto``: direct first, relay on timeout or failure; ``relay``: every room relays
    (setting ``RELAY_POLICY``)."""
    max_relayed_rooms: int = 4
    """Rooms one hub node relays at once; aiortc re-encodes every relayed stream (about 12 % of
    a core per 480p direction), so more would starve the node (setting ``RTC_MAX_RELAYS``)."""
    max_echo_peers: int = 8
    """Device checks one hub node runs at once (setting ``RTC_MAX_ECHO``)."""
    max_echo_per_account: int = 2
    """Device checks one account runs at once on a node (two tabs: a patient with a laptop and
    a phone side by side); beyond it ``echo_limit``, so one user never holds the node's echo
    peers and locks everybody else out (``max_echo_peers`` is then ``busy``)."""
    echo_lifetime: float = 60.0
    """Seconds an echo peer of the device check lives before the hub closes it."""
    host_addresses: Sequence[str] = ()
    """Interface addresses the hub's aiortc peers offer as ICE candidates; empty: all of them."""
