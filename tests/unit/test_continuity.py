"""core.continuity.pick_conversation as a table: which conversation does a message continue?"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from threadline.core.continuity import (
    Candidate,
    Hinted,
    HintKind,
    Policy,
    normalize_subject,
    pick_conversation,
)
from threadline.core.model import Channel
from threadline.core.model import ConversationStatus as S

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ANA, BOB = 1, 2


def conv(
    id: int,
    *,
    customer: int = ANA,
    status: S = S.OPEN,
    subject: str = "order late",
    age: timedelta = timedelta(hours=1),
    resolved_ago: timedelta | None = None,
) -> Candidate:
    resolved_at = NOW - resolved_ago if resolved_ago is not None else None
    if status is S.RESOLVED and resolved_at is None:
        resolved_at = NOW - age
    return Candidate(id, customer, status, normalize_subject(subject), NOW - age, resolved_at)


CASES = [
    # (name, kwargs, expected conversation id, expected reopen)
    (
        "sms joins the latest unresolved conversation on any channel",
        dict(channel=Channel.SMS, candidates=[conv(10, age=timedelta(days=2)), conv(11)]),
        11,
        False,
    ),
    (
        "snoozed and pending count as unresolved",
        dict(
            channel=Channel.API,
            candidates=[
                conv(12, status=S.SNOOZED),
                conv(13, status=S.RESOLVED, age=timedelta(days=30)),
            ],
        ),
        12,
        False,
    ),
    (
        "unresolved beats a more recent resolved one",
        dict(
            channel=Channel.CHAT,
            candidates=[
                conv(14, status=S.RESOLVED, age=timedelta(minutes=5)),
                conv(15, age=timedelta(days=1)),
            ],
        ),
        15,
        False,
    ),
    (
        "resolved within the window is reopened",
        dict(
            channel=Channel.SMS,
            candidates=[conv(16, status=S.RESOLVED, resolved_ago=timedelta(days=6))],
        ),
        16,
        True,
    ),
    (
        "resolved beyond the window starts anew",
        dict(
            channel=Channel.SMS,
            candidates=[conv(17, status=S.RESOLVED, resolved_ago=timedelta(days=8))],
        ),
        None,
        False,
    ),
    (
        "email without hints joins only on the same subject",
        dict(channel=Channel.EMAIL, subject="Re: Order late", candidates=[conv(18)]),
        18,
        False,
    ),
    (
        "email with a new subject is a new matter",
        dict(channel=Channel.EMAIL, subject="Invoice copy", candidates=[conv(19)]),
        None,
        False,
    ),
    (
        "email without a subject does not join by subject",
        dict(channel=Channel.EMAIL, subject=None, candidates=[conv(20, subject="")]),
        None,
        False,
    ),
    (
        "In-Reply-To wins over the latest conversation",
        dict(
            channel=Channel.EMAIL,
            subject="whatever",
            candidates=[conv(21), conv(22, age=timedelta(days=3))],
            hinted=[Hinted(HintKind.MESSAGE_ID, conv(22, age=timedelta(days=3)))],
        ),
        22,
        False,
    ),
    (
        "a reply token from a verified colleague joins someone else's conversation",
        dict(
            channel=Channel.EMAIL,
            candidates=[],
            hinted=[Hinted(HintKind.REPLY_TOKEN, conv(23, customer=BOB))],
        ),
        23,
        False,
    ),
    (
        "a Message-ID in References from someone else's sender is ignored, like [#n]",
        dict(
            channel=Channel.EMAIL,
            subject="Re: order late",
            candidates=[],
            hinted=[Hinted(HintKind.MESSAGE_ID, conv(32, customer=BOB))],
        ),
        None,
        False,
    ),
    (
        "a Message-ID hint from the conversation's own customer threads",
        dict(
            channel=Channel.EMAIL,
            subject="something else",
            candidates=[conv(33)],
            hinted=[Hinted(HintKind.MESSAGE_ID, conv(33))],
        ),
        33,
        False,
    ),
    (
        "an API conversation_id of someone else's conversation is not honoured",
        dict(
            channel=Channel.API,
            candidates=[conv(34)],
            hinted=[Hinted(HintKind.SESSION, conv(35, customer=BOB))],
        ),
        34,
        False,
    ),
    (
        "a reply token from a claimed sender does not join someone else's conversation",
        dict(
            channel=Channel.EMAIL,
            verified=False,
            candidates=[],
            hinted=[Hinted(HintKind.REPLY_TOKEN, conv(36, customer=BOB))],
        ),
        None,
        False,
    ),
    (
        "a claimed identity never pulls a message into someone else's conversation",
        dict(
            channel=Channel.EMAIL,
            verified=False,
            candidates=[],
            hinted=[Hinted(HintKind.MESSAGE_ID, conv(24, customer=BOB))],
        ),
        None,
        False,
    ),
    (
        "a ticket reference counts only from the conversation's own customer",
        dict(
            channel=Channel.EMAIL,
            subject="[#25] hi",
            candidates=[],
            hinted=[Hinted(HintKind.TICKET_NUMBER, conv(25, customer=BOB))],
        ),
        None,
        False,
    ),
    (
        "a ticket reference from its own customer threads",
        dict(
            channel=Channel.EMAIL,
            subject="[#26] hi",
            candidates=[conv(26)],
            hinted=[Hinted(HintKind.TICKET_NUMBER, conv(26))],
        ),
        26,
        False,
    ),
    (
        "a hinted conversation resolved long ago starts anew",
        dict(
            channel=Channel.EMAIL,
            subject="Re: x",
            candidates=[],
            hinted=[
                Hinted(
                    HintKind.MESSAGE_ID,
                    conv(27, status=S.RESOLVED, resolved_ago=timedelta(days=40)),
                )
            ],
        ),
        None,
        False,
    ),
    (
        "a hinted conversation resolved recently is reopened",
        dict(
            channel=Channel.EMAIL,
            subject="Re: x",
            candidates=[],
            hinted=[
                Hinted(
                    HintKind.MESSAGE_ID, conv(28, status=S.RESOLVED, resolved_ago=timedelta(days=1))
                )
            ],
        ),
        28,
        True,
    ),
    (
        "someone else's conversations are never candidates",
        dict(channel=Channel.SMS, candidates=[conv(29, customer=BOB)]),
        None,
        False,
    ),
    (
        "a session hint (API caller, widget) names the conversation",
        dict(
            channel=Channel.API,
            candidates=[conv(30), conv(31, age=timedelta(days=2))],
            hinted=[Hinted(HintKind.SESSION, conv(31, age=timedelta(days=2)))],
        ),
        31,
        False,
    ),
]


@pytest.mark.parametrize(("name", "kw", "expected", "reopen"), CASES, ids=[c[0] for c in CASES])
def test_pick_conversation(name: str, kw: dict, expected: int | None, reopen: bool) -> None:  # type: ignore[type-arg]
    decision = pick_conversation(
        channel=kw["channel"],
        customer_id=kw.get("customer", ANA),
        sender_verified=kw.get("verified", True),
        subject=kw.get("subject"),
        hinted=kw.get("hinted", []),
        candidates=kw["candidates"],
        now=NOW,
        policy=Policy(reopen_window=timedelta(days=7)),
    )
    assert (decision.conversation_id, decision.reopen) == (expected, reopen), decision.reason


def test_new_customer_starts_a_new_conversation() -> None:
    d = pick_conversation(
        channel=Channel.SMS,
        customer_id=None,
        sender_verified=True,
        subject=None,
        hinted=[],
        candidates=[],
        now=NOW,
    )
    assert d.conversation_id is None


@pytest.mark.parametrize(
    ("subject", "key"),
    [
        ("RE: Fwd: [#12] Order  late", "order late"),
        ("AW: Antw: WG: Rechnung", "rechnung"),
        ("Re[2]: hello", "hello"),
        ("Regarding your order", "regarding your order"),
        ("", ""),
    ],
)
def test_normalize_subject(subject: str, key: str) -> None:
    assert normalize_subject(subject) == key
