"""`threadline inbox add chat`: the chat options, and what to paste afterwards.

The options become the chat settings that core/chat_config.py checks when the
inbox is written (actions/inboxes.add_inbox), as the Settings form's do.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.markup import escape

from threadline.actions.inboxes import load_inbox
from threadline.bootstrap import Container
from threadline.core.chat_config import widget_snippet
from threadline.storage.tables import inboxes

__all__ = ["chat_options", "print_chat_setup"]


def chat_options(kind: str, **given: Any) -> dict[str, Any]:
    """The chat settings the command line gave; refused for any other kind, where
    they would be silently ignored."""
    chosen = {k: v for k, v in given.items() if v not in (None, [])}
    if chosen and kind != "chat":
        names = ", ".join(f"--{k.replace('_', '-')}" for k in sorted(chosen))
        raise ValueError(f"{names}: only for chat inboxes")
    if "origin" in chosen:
        chosen["allowed_origins"] = list(chosen.pop("origin"))
    return chosen


def print_chat_setup(console: Console, container: Container, inbox_id: int, base: str) -> None:
    """The snippet, and the identity secret: printed this once (Settings shows it
    again to an admin who asks)."""
    row = container.db.read_sync(
        lambda c: c.execute(sa.select(inboxes).where(inboxes.c.id == inbox_id)).one()
    )
    config = load_inbox(row, container.bus.cfg.secret_key).config
    console.print("Paste this on every page of your site, before </body>:")
    console.print(escape(widget_snippet(base, row.address)), highlight=False)
    console.print(
        "Identity secret (for signing signed-in users, see README): "
        f"{escape(str(config.get('identity_secret')))}",
        highlight=False,
    )
    if not config.get("allowed_origins"):
        console.print(
            "No allowed origins yet: every site is refused. Add them in Settings → Inboxes."
        )
