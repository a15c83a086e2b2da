"""Errors of the consultation layer.

::

    RtcError                 base; ``code`` is the stable code of acks (consult-protocol.md)
     ├── MediaBusy           the node's media capacity (echo peers, relayed rooms) is full
     ├── EchoLimitReached    this account already runs its share of the node's echo peers
     ├── MediaFailed         an aiortc peer could not be set up (bad SDP, no common codec)
     └── NotJoined           an event about a room this connection has not joined

Domain refusals (who may join, when) are :class:`portal.errors.PortalError` and are translated
at the same edge.
"""

from __future__ import annotations


class RtcError(Exception):
    """Base of the consultation layer's errors."""

    code = "rtc_error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.code)


class MediaBusy(RtcError):
    """The hub node already runs as many media peers as it is configured for."""

    code = "busy"


class EchoLimitReached(RtcError):
    """One account asked for more device-check echo peers than it may hold at once."""

    code = "echo_limit"


class MediaFailed(RtcError):
    """An aiortc peer connection could not be negotiated."""

    code = "media_failed"


class NotJoined(RtcError):
    """The connection sent an event for a room it has not joined."""

    code = "not_joined"
