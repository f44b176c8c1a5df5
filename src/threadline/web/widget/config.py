"""A chat inbox's widget settings as the widget server reads them (docs/widget.md).

core/chat_config.py is the one reading of these settings, and every write is
checked by it. A stored config it refuses anyway (written before a rule
tightened, or edited by hand) must neither break the widget nor loosen
anything: the widget then shows the default branding, accepts no page but our
own, and verifies no identity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog

from threadline.core.chat_config import (
    ChatConfig,
    ChatConfigError,
    origin_allowed,
    parse_chat_config,
)
from threadline.ports import Inbox

__all__ = ["WidgetInbox", "widget_inbox"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class WidgetInbox:
    inbox: Inbox
    config: ChatConfig
    public: dict[str, Any]  # what GET /widget/config answers: branding, no secrets
    identity_secret: str | None = field(default=None, repr=False)

    @property
    def prechat(self) -> str:
        return self.config.prechat

    def allows(self, origin: str | None, also: Iterable[str] = ()) -> bool:
        """May a page at ``origin`` (the Origin header) use this widget? Its allowed
        origins, plus ``also``: the server's own address, where the Settings test
        page shows the widget."""
        return origin_allowed(self.config, origin, also)


def widget_inbox(inbox: Inbox) -> WidgetInbox:
    stored = inbox.config
    try:
        config = parse_chat_config(stored)
        # Without a stored secret the parser makes up one nobody knows: no identity
        # verifies, which is what an inbox without a secret should do.
        secret: str | None = config.identity_secret if stored.get("identity_secret") else None
    except ChatConfigError as exc:
        log.warning("chat.config_unusable", inbox=inbox.id, error=str(exc))
        config, secret = parse_chat_config({}), None
    public = {"inbox": inbox.address, "name": inbox.name, **config.public()}
    return WidgetInbox(inbox=inbox, config=config, public=public, identity_secret=secret)
