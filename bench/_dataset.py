"""The benchmarks' generated workspaces, planned from one seed. The timeline
benchmark's: who writes how often, which conversation each message joins, and every
table's rows. The workspace (UI) benchmark's: a help desk's open conversations and
one long one."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import _common  # noqa: F401 - first: this checkout's src on the path
from _corpus import CHANNELS, SUBJECTS, TextMaker, products_for

from threadline.core.continuity import normalize_subject

__all__ = ["SPAN", "START", "Dataset", "Staff", "Workspace", "ts"]

# naive UTC, as SQLAlchemy stores UTCDateTime values on SQLite
START = datetime(2024, 1, 1, 8, 0, 0)  # noqa: DTZ001
SPAN = timedelta(days=700)


def ts(i: int, total: int) -> str:
    """Message i of total, spread over SPAN, in SQLAlchemy's SQLite DateTime format."""
    return (START + SPAN * (i / total)).strftime("%Y-%m-%d %H:%M:%S.%f")


class Dataset:
    """The generated workspace, planned up front; rows come out table by table."""

    def __init__(self, n_messages: int, n_customers: int, seed: int) -> None:
        t0 = time.perf_counter()
        self.n_messages = n = n_messages
        self.n_customers = nc = n_customers
        self.rng = rng = random.Random(seed)
        self.inbox_of = {ch: i for i, (ch, _) in enumerate(CHANNELS, start=1)}
        # Who writes each message: a long tail, as in real help desks (most customers write
        # once or twice, a few accounts write all the time).
        weights = [rng.paretovariate(1.5) for _ in range(nc)]
        scale = (n - nc) / sum(weights)
        counts = [1 + int(w * scale) for w in weights]
        short = n - sum(counts)
        for c in rng.choices(range(nc), weights=weights, k=max(short, 0)):
            counts[c] += 1
        while sum(counts) > n:  # rounding can overshoot by a few
            c = rng.randrange(nc)
            if counts[c] > 1:
                counts[c] -= 1
        self.counts = counts
        order = [c for c, k in enumerate(counts) for _ in range(k)]
        rng.shuffle(order)
        # Customers appear as they first write.
        self.first_seen: dict[int, int] = {}
        for i, c in enumerate(order):
            self.first_seen.setdefault(c, i)
        # Conversations: 1-3 per customer, each a consecutive run of that customer's messages.
        n_convs = [min(counts[c], rng.choice((1, 1, 2, 2, 3))) for c in range(nc)]
        self.conv_of = conv_of = [0] * n
        seen = [0] * nc
        conv_ids: list[list[int]] = [[] for _ in range(nc)]
        self.convs: list[dict[str, Any]] = []
        names = [ch for ch, _ in CHANNELS]
        shares = [w for _, w in CHANNELS]
        for i, c in enumerate(order):
            k = seen[c]
            slot = k * n_convs[c] // counts[c]
            if slot >= len(conv_ids[c]):
                self.convs.append(
                    {
                        "customer": c,
                        "first": i,
                        "last": i,
                        "last_in": i,
                        "channel": rng.choices(names, weights=shares)[0],
                        "subject": rng.choice(SUBJECTS),
                    }
                )
                conv_ids[c].append(len(self.convs))  # ids from 1, in order of first message
            cid = conv_ids[c][slot]
            conv_of[i] = cid
            self.convs[cid - 1]["last"] = i
            seen[c] = k + 1
        # The first message of a conversation is the customer's; then customer or agent.
        self.inbound = [
            self.convs[conv_of[i] - 1]["first"] == i or rng.random() < 0.6 for i in range(n)
        ]
        for i, inbound in enumerate(self.inbound):
            if inbound:
                self.convs[conv_of[i] - 1]["last_in"] = i
        self.products = products_for(seed)
        self.plan_seconds = time.perf_counter() - t0

    def ts(self, i: int) -> str:
        return ts(i, self.n_messages)

    def tables(self) -> Iterator[tuple[str, tuple[str, ...], Iterable[tuple[Any, ...]]]]:
        created = START.strftime("%Y-%m-%d %H:%M:%S.%f")
        yield (
            "users",
            ("id", "email", "name", "role", "password_hash", "created_at"),
            [(1, "agent@acme.test", "Anna Agent", "agent", None, created)],
        )
        yield (
            "inboxes",
            ("id", "channel", "name", "address", "config", "created_at"),
            [
                (
                    i,
                    ch,
                    ch.title(),
                    "support@acme.test" if ch == "email" else f"acme-{ch}",
                    "{}",
                    created,
                )
                for ch, i in self.inbox_of.items()
            ],
        )
        first = self.first_seen
        yield (
            "customers",
            ("id", "name", "merged_into_id", "created_at", "updated_at"),
            (
                (c + 1, f"Customer {c}", None, self.ts(first.get(c, 0)), self.ts(first.get(c, 0)))
                for c in range(self.n_customers)
            ),
        )
        yield (
            "identities",
            ("id", "customer_id", "kind", "value", "verified", "created_at"),
            (
                (c + 1, c + 1, "external", f"c{c}", True, self.ts(first.get(c, 0)))
                for c in range(self.n_customers)
            ),
        )
        yield (
            "conversations",
            (
                "id",
                "customer_id",
                "inbox_id",
                "status",
                "priority",
                "category",
                "assignee_id",
                "team",
                "escalation_level",
                "subject",
                "subject_key",
                "last_inbound_channel",
                "last_inbound_at",
                "last_activity_at",
                "resolved_at",
                "created_at",
                "updated_at",
            ),
            self._conversations(),
        )
        yield ("messages", _MESSAGE_COLUMNS, self._messages())
        yield (
            "timeline_entries",
            _ENTRY_COLUMNS,
            self._timeline(),
        )

    def _conversations(self) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(self.rng.random())
        n = self.n_messages
        for cid, r in enumerate(self.convs, start=1):
            last = self.ts(r["last"])
            resolved = r["last"] < n * 0.97 and rng.random() < 0.8
            subject = r["subject"] if r["channel"] == "email" else None
            status = "resolved" if resolved else rng.choice(("open", "open", "pending"))
            yield (
                cid,
                r["customer"] + 1,
                self.inbox_of[r["channel"]],
                status,
                "normal",
                None,
                None,
                None,
                1,
                subject,
                normalize_subject(subject),
                r["channel"],
                self.ts(r["last_in"]),
                last,
                last if resolved else None,
                self.ts(r["first"]),
                last,
            )

    def _messages(self) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(self.rng.random())
        text = TextMaker(rng, self.products)
        for i in range(self.n_messages):
            mid = i + 1
            cid = self.conv_of[i]
            conv = self.convs[cid - 1]
            cust = conv["customer"] + 1
            channel = conv["channel"]
            inbox = self.inbox_of[channel]
            created = self.ts(i)
            if self.inbound[i]:
                if channel == "email":
                    pmid = f"<{mid:x}.{rng.getrandbits(40):x}@mail.example.com>"
                    meta = {
                        "sender": f"external:c{cust - 1}",
                        "message_id": pmid,
                        "subject": conv["subject"],
                        "to": "support@acme.test",
                        "cc": "",
                    }
                else:
                    pmid = f"{channel}:{mid:x}-{rng.getrandbits(32):x}"
                    meta = {"sender": f"external:c{cust - 1}"}
                yield (
                    mid,
                    cid,
                    cust,
                    inbox,
                    "inbound",
                    channel,
                    "customer",
                    None,
                    text.customer(),
                    None,
                    None,
                    pmid,
                    None,
                    "received",
                    None,
                    json.dumps(meta),
                    created,
                    created if channel == "email" else None,
                )
            else:
                yield (
                    mid,
                    cid,
                    cust,
                    inbox,
                    "outbound",
                    channel,
                    "agent",
                    1,
                    text.agent(),
                    None,
                    None,
                    f"<msg-{mid}@acme.test>",
                    f"external:c{cust - 1}",
                    "delivered",
                    None,
                    "{}",
                    created,
                    created,
                )

    def _timeline(self) -> Iterator[tuple[Any, ...]]:
        data = {
            (inbound, ch): json.dumps(
                {"direction": "inbound" if inbound else "outbound", "channel": ch}
            )
            for ch, _ in CHANNELS
            for inbound in (True, False)
        }
        for i in range(self.n_messages):
            conv = self.convs[self.conv_of[i] - 1]
            yield (
                i + 1,
                conv["customer"] + 1,
                self.conv_of[i],
                "message",
                i + 1,
                data[self.inbound[i], conv["channel"]],
                self.ts(i),
            )


# -- the workspace benchmark (bench/ui.py) ------------------------------------------------
@dataclass(frozen=True, slots=True)
class Staff:
    """What the actions created before the bulk load: inbox ids by channel, agents, teams."""

    inboxes: dict[str, int]
    agents: list[int]
    teams: list[int]


# Inbox kinds the actions accept (the timeline benchmark's "chat" is not one).
_NAMES, _SHARES = ["email", "sms", "whatsapp", "api"], [0.5, 0.15, 0.15, 0.2]
TAGS = ("vip", "refund", "shipping", "bug", "billing", "follow-up")
# The long conversation's entries besides its messages, with their shares.
EVENTS = (("note", 0.06), ("status_changed", 0.05), ("assigned", 0.04), ("tags_changed", 0.03))


class Workspace:
    """A help desk's live work: ``n_open`` open conversations and ``n_closed`` older
    resolved ones over the inboxes, one customer each, 1-6 messages, some assigned to an
    agent or a team, some tagged; the newest is one long conversation of
    ``long_entries`` timeline entries (messages, notes, status changes, assignments)."""

    def __init__(self, staff: Staff, n_open: int, n_closed: int, long_entries: int, seed: int):
        self.staff = staff
        self.n_open, self.n_closed, self.long_entries = n_open, n_closed, long_entries
        self.n = n_open + n_closed
        self.long_id = self.n  # the newest: at the top of the inbox
        self.rng = random.Random(seed)
        self.text = TextMaker(self.rng, products_for(seed))
        self.convs: list[tuple[Any, ...]] = []
        self.tags: list[tuple[int, str]] = []
        self.messages: list[tuple[Any, ...]] = []
        self.entries: list[tuple[Any, ...]] = []
        for cid in range(1, self.n + 1):
            self._conversation(cid)

    def tables(self) -> Iterator[tuple[str, tuple[str, ...], Iterable[tuple[Any, ...]]]]:
        yield (
            "customers",
            ("id", "name", "merged_into_id", "created_at", "updated_at"),
            ((c[1], f"Customer {c[1]}", None, c[15], c[15]) for c in self.convs),
        )
        yield (
            "identities",
            ("id", "customer_id", "kind", "value", "verified", "created_at"),
            ((c[1], c[1], "external", f"c{c[1]}", True, c[15]) for c in self.convs),
        )
        yield (
            "conversations",
            (
                "id",
                "customer_id",
                "inbox_id",
                "status",
                "priority",
                "escalation_level",
                "assignee_id",
                "team_id",
                "subject",
                "subject_key",
                "last_inbound_channel",
                "last_inbound_at",
                "waiting_since",
                "last_activity_at",
                "resolved_at",
                "created_at",
                "updated_at",
                "category",
            ),
            ((*c, None) for c in self.convs),
        )
        yield ("conversation_tags", ("conversation_id", "tag"), self.tags)
        yield ("messages", _MESSAGE_COLUMNS, self.messages)
        yield (
            "timeline_entries",
            _ENTRY_COLUMNS,
            self.entries,
        )

    # -- one conversation ----------------------------------------------------------------
    def _conversation(self, cid: int) -> None:
        rng, staff = self.rng, self.staff
        is_open = cid > self.n_closed
        long = cid == self.long_id
        channel = "email" if long else rng.choices(_NAMES, weights=_SHARES)[0]
        inbox = staff.inboxes[channel]
        # A minute apart, the newest last; a conversation's own events in the minute before.
        end = START + timedelta(minutes=cid)
        n_events = self.long_entries if long else rng.choice((1, 1, 2, 2, 3, 4, 6))
        step = timedelta(seconds=50) / n_events
        first_at = end - step * n_events
        assignee = rng.choice(staff.agents) if long or rng.random() < 0.6 else None
        team = rng.choice(staff.teams) if rng.random() < 0.3 else None
        kinds = self._kinds(n_events, long)
        last_in = waiting = None
        for i, kind in enumerate(kinds):
            at = _fmt(first_at + step * (i + 1))
            if kind in ("inbound", "outbound", "note"):
                self._message(cid, inbox, channel, kind, assignee, at)
                if kind == "inbound":
                    last_in = at
                    waiting = waiting or at
                elif kind == "outbound":
                    waiting = None
            else:
                self._event(cid, kind, assignee, at)
        if not is_open:
            self._event(cid, "resolved", assignee, _fmt(end))
        if rng.random() < 0.15 or long:
            for tag in rng.sample(TAGS, rng.choice((1, 2))):
                self.tags.append((cid, tag))
        subject = rng.choice(SUBJECTS) if channel == "email" else None
        self.convs.append(
            (
                cid,
                cid,
                inbox,
                "open" if is_open else "resolved",
                "high" if long else rng.choice(("normal", "normal", "normal", "low", "high")),
                1,
                assignee,
                team,
                subject,
                normalize_subject(subject),
                channel,
                last_in,
                waiting if is_open else None,
                _fmt(end),
                None if is_open else _fmt(end),
                _fmt(first_at),
                _fmt(end),
            )
        )

    def _kinds(self, n: int, long: bool) -> list[str]:
        """The customer writes first; then customer and agent, and in the long
        conversation the occasional note, status change, assignment or tag."""
        rng = self.rng
        out = ["inbound"]
        names, shares = [k for k, _ in EVENTS], [w for _, w in EVENTS]
        for _ in range(n - 1):
            if long and rng.random() < sum(shares):
                out.append(rng.choices(names, weights=shares)[0])
            else:
                out.append("outbound" if out[-1] == "inbound" and rng.random() < 0.7 else "inbound")
        return out

    def _message(
        self, cid: int, inbox: int, channel: str, kind: str, agent: int | None, at: str
    ) -> None:
        mid = len(self.messages) + 1
        agent = agent or self.staff.agents[0]
        row: tuple[Any, ...]
        if kind == "inbound":
            meta = json.dumps({"sender": f"external:c{cid}"})
            row = (mid, cid, cid, inbox, "inbound", channel, "customer", None,
                   self.text.customer(), None, None, f"{channel}:{mid}", None, "received",
                   None, meta, at, None)  # fmt: skip
        else:
            direction = "note" if kind == "note" else "outbound"
            status = "sent" if kind == "note" else "delivered"
            row = (mid, cid, cid, inbox, direction, channel, "agent", agent, self.text.agent(),
                   None, None, None, None if kind == "note" else f"external:c{cid}", status,
                   None, "{}", at, at)  # fmt: skip
        self.messages.append(row)
        data = json.dumps({"direction": row[4], "channel": channel})
        entry_kind = "note" if kind == "note" else "message"
        self.entries.append((len(self.entries) + 1, cid, cid, entry_kind, mid, data, at))

    def _event(self, cid: int, kind: str, agent: int | None, at: str) -> None:
        by = agent or self.staff.agents[0]
        rng = self.rng
        if kind == "resolved":
            kind, data = "status_changed", {"from": "open", "to": "resolved", "by": by}
        elif kind == "status_changed":
            to = rng.choice(("pending", "open"))
            data = {"from": "open" if to == "pending" else "pending", "to": to, "by": by}
        elif kind == "assigned":
            data = {"from": None, "to": rng.choice(self.staff.agents), "by": by}
        else:
            data = {"added": [rng.choice(TAGS)], "removed": [], "by": by}
        self.entries.append((len(self.entries) + 1, cid, cid, kind, None, json.dumps(data), at))


_ENTRY_COLUMNS = (
    "id",
    "customer_id",
    "conversation_id",
    "kind",
    "message_id",
    "data",
    "created_at",
)
_MESSAGE_COLUMNS = (
    "id",
    "conversation_id",
    "customer_id",
    "inbox_id",
    "direction",
    "channel",
    "author_type",
    "author_id",
    "text",
    "full_text",
    "html",
    "provider_message_id",
    "recipient",
    "status",
    "error",
    "meta",
    "created_at",
    "sent_at",
)


def _fmt(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")
