"""The timeline benchmark's generated workspace: who writes how often, which
conversation each message joins, and every table's rows, planned from one seed."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from _corpus import CHANNELS, SUBJECTS, TextMaker, products_for

from threadline.core.continuity import normalize_subject

__all__ = ["SPAN", "START", "Dataset", "ts"]

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
        yield (
            "messages",
            (
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
            ),
            self._messages(),
        )
        yield (
            "timeline_entries",
            ("id", "customer_id", "conversation_id", "kind", "message_id", "data", "created_at"),
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
