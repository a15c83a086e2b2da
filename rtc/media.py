"""The hub node's aiortc peers: device-check echo peers and relayed rooms.

:class:`MediaPeers` is the registry the ``/consult`` namespace talks to; one per hub node,
opened and closed with the app. It bounds how many peers run at once (aiortc re-encodes every
stream it sends, see ``RtcConfig.max_relayed_rooms``), drops peers whose connection failed or
closed, and closes everything at shutdown. Offers and answers are ``{"sdp", "type"}``
dictionaries, as ``RTCSessionDescriptionInit`` travels over Socket.IO.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiortc import RTCPeerConnection

from rtc.config import RtcConfig
from rtc.echo import EchoPeer
from rtc.errors import EchoLimitReached, MediaBusy, MediaFailed
from rtc.peer import Tasks, on_dead
from rtc.quality import LinkQuality
from rtc.relay import ROLES, RelayBridge, Role

logger = logging.getLogger(__name__)


class MediaPeers:
    """Every aiortc peer connection of this hub node: device-check echo peers and relayed rooms."""

    def __init__(self, config: RtcConfig) -> None:
        self.config = config
        self._echoes: dict[str, EchoPeer] = {}
        self._echo_accounts: dict[str, str] = {}
        """Whose account each echo peer's socket belongs to (for the per-account limit)."""
        self._expiry: dict[str, asyncio.Task[Any]] = {}
        self._rooms: dict[str, RelayBridge] = {}
        self._tasks = Tasks()
        self._closing: set[asyncio.Future[None]] = set()
        """Echo peers being closed: a close runs to its end even when the task that began it is
        cancelled (the node shutting down), or the peer's sockets would be left open."""
        self._closed = False

    # -- device check --------------------------------------------------------------------------

    async def echo_answer(
        self, owner: str, offer: dict[str, str], *, account: str | None = None
    ) -> dict[str, str]:
        """Answer ``owner``'s device-check offer with an echo peer; replaces an earlier one.

        The echo peer closes itself after ``config.echo_lifetime`` seconds. Raises
        :class:`EchoLimitReached` when ``account`` (the socket's user) already runs
        ``config.max_echo_per_account`` other echo peers, :class:`MediaBusy` when
        ``config.max_echo_peers`` are running, :class:`MediaFailed` when the offer cannot be
        answered.
        """
        self._check_open()
        await self.close_echo(owner)
        # Per account first: one user's tabs or scripted sockets must not hold every echo peer
        # of the node and lock everybody else out of the device check (OWASP ASVS 11.1.4).
        if account is not None:
            held = sum(1 for other in self._echo_accounts.values() if other == account)
            if held >= self.config.max_echo_per_account:
                raise EchoLimitReached(f"{held} device checks of one account are running")
        if len(self._echoes) >= self.config.max_echo_peers:
            raise MediaBusy(f"{len(self._echoes)} device checks are running")
        peer = EchoPeer(owner, self.config)
        # Registered before the first await, so concurrent checks count against the limits.
        self._echoes[owner] = peer
        if account is not None:
            self._echo_accounts[owner] = account
        on_dead(peer.pc, lambda: self._spawn_echo_gone(owner, peer))
        try:
            answer = await peer.answer(offer)
        except BaseException:
            await self._forget_echo(owner, peer)
            raise
        if self._echoes.get(owner) is not peer:
            # Closed or replaced while answering.
            await peer.close()
            raise MediaFailed("the device check was stopped")
        self._expiry[owner] = self._spawn(self._expire(owner, peer), f"echo expiry {owner}")
        return answer

    async def echo_stats(self, owner: str) -> LinkQuality:
        """The link quality ``owner``'s echo peer measures (unknown without an echo peer)."""
        peer = self._echoes.get(owner)
        if peer is None:
            return LinkQuality.unknown()
        return await peer.stats()

    async def close_echo(self, owner: str) -> None:
        """Close ``owner``'s echo peer, if any."""
        peer = self._echoes.get(owner)
        if peer is not None:
            await self._forget_echo(owner, peer)

    def echo_owners(self) -> list[str]:
        """Who has an echo peer running."""
        return list(self._echoes)

    async def _forget_echo(self, owner: str, peer: EchoPeer) -> None:
        if self._echoes.get(owner) is peer:
            del self._echoes[owner]
            self._echo_accounts.pop(owner, None)
            expiry = self._expiry.pop(owner, None)
            if expiry is not None and expiry is not asyncio.current_task():
                expiry.cancel()
        closing = asyncio.ensure_future(peer.close())
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)
        await asyncio.shield(closing)

    async def _expire(self, owner: str, peer: EchoPeer) -> None:
        await asyncio.sleep(self.config.echo_lifetime)
        await self._forget_echo(owner, peer)

    def _spawn_echo_gone(self, owner: str, peer: EchoPeer) -> None:
        self._spawn(self._echo_gone(owner, peer), f"echo gone {owner}")

    async def _echo_gone(self, owner: str, peer: EchoPeer) -> None:
        logger.info("echo peer of %s is %s", owner, peer.connection_state)
        await self._forget_echo(owner, peer)

    # -- relay ---------------------------------------------------------------------------------

    async def relay_answer(self, room: str, role: str, offer: dict[str, str]) -> dict[str, str]:
        """Answer a member's relay offer; ``role`` is ``patient`` or ``physician``.

        The room's bridge is made on its first offer; a new offer of a member replaces that
        member's peer connection (a reloaded page). Raises :class:`MediaBusy` when
        ``config.max_relayed_rooms`` other rooms are relayed, :class:`MediaFailed` when the offer
        cannot be answered.
        """
        self._check_open()
        member = _role(role)
        bridge = self._rooms.get(room)
        if bridge is None:
            if len(self._rooms) >= self.config.max_relayed_rooms:
                raise MediaBusy(f"{len(self._rooms)} rooms are relayed")
            bridge = RelayBridge(room, self.config, self._relay_peer_dead)
            self._rooms[room] = bridge
        try:
            return await bridge.answer(member, offer)
        except BaseException:
            await self._forget_if_empty(room, bridge)
            raise

    async def close_relay(self, room: str) -> None:
        """Close both members' relay peers and forget the room (hang-up, end)."""
        bridge = self._rooms.pop(room, None)
        if bridge is not None:
            await bridge.close()

    async def close_role(self, room: str, role: str) -> None:
        """Close one member's relay peer (that member left or disconnected)."""
        bridge = self._rooms.get(room)
        if bridge is not None:
            await bridge.close_role(_role(role))
            await self._forget_if_empty(room, bridge)

    def relay_stats(self, room: str) -> dict[str, Any]:
        """Connection states and frames forwarded per direction and kind; ``{}``: not relayed."""
        bridge = self._rooms.get(room)
        return bridge.stats() if bridge is not None else {}

    def relayed_rooms(self) -> list[str]:
        """The rooms this node relays now."""
        return list(self._rooms)

    def _relay_peer_dead(self, bridge: RelayBridge, role: Role, pc: RTCPeerConnection) -> None:
        self._spawn(self._relay_peer_gone(bridge, role, pc), f"relay gone {bridge.room}")

    async def _relay_peer_gone(
        self, bridge: RelayBridge, role: Role, pc: RTCPeerConnection
    ) -> None:
        if bridge.peer(role) is pc:
            logger.info("relay peer of %s in %s is %s", role, bridge.room, pc.connectionState)
        await bridge.close_role(role, pc)
        await self._forget_if_empty(bridge.room, bridge)

    async def _forget_if_empty(self, room: str, bridge: RelayBridge) -> None:
        if bridge.empty and self._rooms.get(room) is bridge:
            del self._rooms[room]
            await bridge.close()

    # -- node ----------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise MediaFailed("the hub node is shutting down")

    def _spawn(self, coroutine: Any, name: str) -> asyncio.Task[Any]:
        return self._tasks.spawn(coroutine, name=name)

    async def close(self) -> None:
        """Close every peer and cancel every task (node shutdown); calling it again is harmless."""
        self._closed = True
        await self._tasks.cancel_all()
        for owner, peer in list(self._echoes.items()):
            await self._forget_echo(owner, peer)
        for room in list(self._rooms):
            await self.close_relay(room)
        # Closing fires "closed" state changes, whose clean-up tasks have nothing left to do.
        await self._tasks.cancel_all()
        # Closes begun by tasks cancelled above (a peer that had just died) finish here.
        await asyncio.gather(*self._closing, return_exceptions=True)


def _role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise ValueError(f"no such member of a room: {role!r}")
