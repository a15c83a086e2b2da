"""Outgoing e-mail: SMTP when configured, otherwise .eml files in a local outbox folder."""

from __future__ import annotations

import asyncio
import logging
import secrets
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import aiosmtplib

from portal.config import SmtpConfig

log = logging.getLogger(__name__)


class Mailer:
    """Sends messages; with no SMTP server configured, writes them to ``outbox_dir``."""

    def __init__(self, smtp: SmtpConfig | None, outbox_dir: Path) -> None:
        self.smtp = smtp
        self.outbox_dir = outbox_dir

    @property
    def sender(self) -> str:
        """The From address."""
        return self.smtp.sender if self.smtp else "Portal Pacjenta <no-reply@localhost>"

    async def send(self, to: str, subject: str, body: str) -> None:
        """Send one plain-text message to ``to``."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="portal.local")
        message.set_content(body)
        if self.smtp is None:
            await asyncio.to_thread(self._write, message)
            return
        await aiosmtplib.send(
            message,
            hostname=self.smtp.host,
            port=self.smtp.port,
            username=self.smtp.username,
            password=self.smtp.password.reveal() if self.smtp.password else None,
            use_tls=self.smtp.port == 465,
            start_tls=self.smtp.port == 587,
            timeout=15,
        )

    def _write(self, message: EmailMessage) -> None:
        self.outbox_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{formatdate(usegmt=True)[5:25].replace(' ', '-').replace(':', '')}"
        path = self.outbox_dir / f"{name}-{secrets.token_hex(4)}.eml"
        path.write_bytes(bytes(message))
        path.chmod(0o600)
        log.info("mail to the outbox: %s", path)
