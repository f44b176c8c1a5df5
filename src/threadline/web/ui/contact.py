"""The public contact page (GET /contact): every way to reach the business, its
hours, its response target in plain words, and whether it is open right now.

Public by design: no sign-in, no scope. It is generated from the configured
inboxes (core/contact.py decides what of each is public, never a secret) and
the stored first-response policies, in the words of core/promise.py, the same
the chat widget and the off-hours reply use. Server-rendered, no script needed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import get
from litestar.response import Template

from threadline.core.contact import ORDER, listing
from threadline.core.hours import Hours, parse_hours
from threadline.core.promise import promise, sentence
from threadline.core.sla import Target
from threadline.queries.profile import business_profile
from threadline.queries.sla_policies import first_response_targets
from threadline.web.ui.common import Req, container

__all__ = ["ROUTES"]

MAX_LISTED = 50  # inboxes on the page; a desk with more lists the first by channel and id
# A minute is as stale as "open now" may be; a flood is served by the browsers and
# proxies in front rather than by the database.
CACHE = "public, max-age=60"
_FALLBACK = Target(timedelta(hours=4))


def _calendar(config: Any) -> Hours | None:
    hours = config.get("hours")
    try:
        return parse_hours(hours if isinstance(hours, dict) else None)
    except ValueError:  # a typo is always open, as everywhere else (core/sla.py)
        return None


@get("/contact", include_in_schema=False)
async def contact_page(request: Req) -> Template:
    c = container(request)
    now = c.clock.now()
    targets = await c.db.read(first_response_targets)
    profile = await c.db.read(lambda conn: business_profile(conn, c.settings))
    inboxes = sorted(
        await c.bus.all_inboxes(),
        key=lambda i: (ORDER.index(i.channel) if i.channel in ORDER else len(ORDER), i.id),
    )
    entries: list[dict[str, Any]] = []
    for inbox in inboxes:
        public = listing(inbox.channel, inbox.address, inbox.config)
        if public is None:
            continue
        # Every channel has a default policy; the fallback is only for a channel
        # added to the code before its default.
        target = targets.get(inbox.channel, _FALLBACK)
        said = promise(_calendar(inbox.config), target, now)
        entries.append(
            {"listing": public, "promise": said, "sentence": sentence(public.verb, said)}
        )
        if len(entries) == MAX_LISTED:
            break
    return Template(
        "contact.html",
        context={"business": profile["name"], "entries": entries},
        headers={"Cache-Control": CACHE},
    )


ROUTES = [contact_page]
