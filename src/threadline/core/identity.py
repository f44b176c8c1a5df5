"""Identity normalization and resolution.

Normalization turns what a customer typed or a provider sent into one canonical
``kind:value``. Resolution decides, from what the store already knows, which
customer a message belongs to, which identities get linked, and which matches
only become merge suggestions. Both are pure.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr

import phonenumbers

from threadline.core.model import IdentityRef

__all__ = [
    "IDENTITY_KINDS",
    "InvalidIdentity",
    "Resolution",
    "normalize",
    "normalize_email",
    "normalize_phone",
    "resolve",
]

IDENTITY_KINDS = frozenset(
    {"email", "phone", "whatsapp", "messenger", "instagram", "telegram", "chat", "external"}
)


class InvalidIdentity(ValueError):
    """The value cannot be an identity of that kind."""


def normalize_email(raw: str) -> str:
    """Lower-case the whole address: no real mailbox relies on case, and customers
    type it both ways."""
    _, addr = parseaddr(raw.strip())
    addr = addr.strip().lower()
    if addr.count("@") != 1:
        raise InvalidIdentity(f"not an email address: {raw!r}")
    local, domain = addr.split("@")
    if not local or "." not in domain or domain.startswith(".") or domain.endswith("."):
        raise InvalidIdentity(f"not an email address: {raw!r}")
    try:
        Address(addr_spec=addr)
    except (ValueError, IndexError) as exc:
        raise InvalidIdentity(f"not an email address: {raw!r}") from exc
    return addr


def normalize_phone(raw: str, default_region: str | None = None) -> str:
    """E.164, so '+1 (415) 555-0101' and '+14155550101' are one customer."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentity(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentity(f"not a possible phone number: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize(
    kind: str, value: str, *, verified: bool = True, default_region: str | None = None
) -> IdentityRef:
    kind = kind.strip().lower()
    if kind not in IDENTITY_KINDS:
        raise InvalidIdentity(f"unknown identity kind: {kind!r}")
    if kind == "email":
        value = normalize_email(value)
    elif kind == "phone":
        value = normalize_phone(value, default_region)
    else:
        value = value.strip()
        if not value or len(value) > 255:
            raise InvalidIdentity(f"empty or overlong {kind} identity")
    return IdentityRef(kind, value, verified)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What to do with the identities one inbound message carries.

    ``customer_id`` is None when a new customer must be created. ``link`` are
    identities to attach to that customer; ``merge`` are other customers to fold
    into it (proved by verified identities); ``suggest`` pairs a claimed identity
    with the other customer who owns it, for an agent to decide.
    """

    customer_id: int | None
    link: tuple[IdentityRef, ...]
    merge: tuple[int, ...]
    suggest: tuple[tuple[IdentityRef, int], ...]


def resolve(
    sender: IdentityRef,
    also: Sequence[IdentityRef],
    owners: Mapping[tuple[str, str], int],
    *,
    claimant: int | None = None,
    unproven: Collection[int] = (),
) -> Resolution:
    """Decide the customer for a message from ``sender`` asserting ``also``.

    ``owners`` maps each already-known identity key to its customer. Only verified
    identities may pull two customers together, into the oldest of them; a claimed
    one that belongs to someone else only becomes a suggestion, and different
    people are never joined on anything weaker.

    That holds for the sender too: a claimed sender that is someone else's
    identity gives the message to a separate customer (the one an earlier
    identical claim created, ``claimant``, else a new one), so it never lands on
    that someone's record or in their conversation. The exception is an owner in
    ``unproven``, whose record holds no verified identity at all: it was made by
    claims like this one, and joining it takes nothing from anyone who proved who
    they are.
    """
    refs = [sender, *(r for r in also if r.key != sender.key)]
    owner = owners.get(sender.key)
    customer_id = owner if owner is not None and (sender.verified or owner in unproven) else None
    if sender.verified:
        # Proofs that join several records keep the oldest (the lowest id): a chat
        # visitor who signs in mid-chat folds into the customer on file, not the
        # record their first anonymous message made a minute ago.
        customer_id = min(
            (owners[r.key] for r in refs if r.verified and r.key in owners), default=None
        )
    if customer_id is None:
        customer_id = next(
            (owners[r.key] for r in refs[1:] if r.verified and r.key in owners), None
        )
    if customer_id is None and owner is not None:
        customer_id = claimant
    link: list[IdentityRef] = []
    merge: list[int] = []
    suggest: list[tuple[IdentityRef, int]] = []
    for ref in refs:
        owner = owners.get(ref.key)
        if owner is None:
            link.append(ref)
        elif owner == customer_id:
            continue
        elif ref.verified and sender.verified and customer_id is not None:
            if owner not in merge:
                merge.append(owner)
        else:
            suggest.append((ref, owner))
    return Resolution(customer_id, tuple(link), tuple(merge), tuple(suggest))
