"""core.identity: normalization and resolution."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threadline.core.identity import InvalidIdentity, normalize, resolve
from threadline.core.model import IdentityRef


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        ("email", "Ana.Souza@Example.COM", "ana.souza@example.com"),
        ("email", "Ana <ana@example.com>", "ana@example.com"),
        ("phone", "+1 (415) 555-0101", "+14155550101"),
        ("phone", "+44 20 7946 0958", "+442079460958"),
        ("telegram", " 123456 ", "123456"),
        ("EXTERNAL", "user-42", "user-42"),
    ],
)
def test_normalize(kind: str, raw: str, value: str) -> None:
    assert normalize(kind, raw).value == value


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("phone", "hello"),
        ("phone", "+1 2"),
        ("fax", "1"),
        ("chat", ""),
    ],
)
def test_normalize_rejects(kind: str, raw: str) -> None:
    with pytest.raises(InvalidIdentity):
        normalize(kind, raw)


def test_national_number_needs_a_region() -> None:
    assert normalize("phone", "(415) 555-0101", default_region="US").value == "+14155550101"
    with pytest.raises(InvalidIdentity):
        normalize("phone", "(415) 555-0101")


EMAIL = IdentityRef("email", "ana@example.com")
PHONE = IdentityRef("phone", "+14155550101")


def test_unknown_sender_is_a_new_customer_with_all_identities() -> None:
    r = resolve(EMAIL, [PHONE], {})
    assert (r.customer_id, r.link, r.merge, r.suggest) == (None, (EMAIL, PHONE), (), ())


def test_known_verified_identities_of_two_customers_merge() -> None:
    r = resolve(EMAIL, [PHONE], {EMAIL.key: 1, PHONE.key: 2})
    assert (r.customer_id, r.merge, r.suggest) == (1, (2,), ())


def test_verified_proofs_fold_the_newer_record_into_the_oldest() -> None:
    # A chat visitor (customer 7, made by their first anonymous message) signs in
    # mid-chat as the customer on file (3): 7 folds into 3, not 3 into 7.
    visitor = IdentityRef("chat", "v-1")
    r = resolve(visitor, [EMAIL], {visitor.key: 7, EMAIL.key: 3})
    assert (r.customer_id, r.merge, r.suggest) == (3, (7,), ())


def test_claimed_identity_of_another_customer_is_only_a_suggestion() -> None:
    claimed = IdentityRef("email", "ana@example.com", verified=False)
    visitor = IdentityRef("chat", "v-1")
    r = resolve(visitor, [claimed], {claimed.key: 1})
    assert r.customer_id is None
    assert r.merge == ()
    assert r.suggest == ((claimed, 1),)


def test_claimed_sender_never_merges_and_the_verified_extra_names_the_customer() -> None:
    sender = IdentityRef("email", "ana@example.com", verified=False)
    r = resolve(sender, [PHONE], {sender.key: 1, PHONE.key: 2})
    assert r.customer_id == 2
    assert r.merge == ()
    assert r.suggest == ((sender, 1),)


CLAIMED = IdentityRef("email", "ana@example.com", verified=False)


def test_claimed_sender_on_someone_elses_record_is_a_new_customer_and_a_suggestion() -> None:
    r = resolve(CLAIMED, [], {CLAIMED.key: 1})
    assert (r.customer_id, r.link, r.merge, r.suggest) == (None, (), (), ((CLAIMED, 1),))


def test_repeated_claim_goes_to_the_customer_the_first_claim_created() -> None:
    r = resolve(CLAIMED, [], {CLAIMED.key: 1}, claimant=5)
    assert (r.customer_id, r.suggest) == (5, ((CLAIMED, 1),))


def test_claim_joins_a_record_made_only_of_claims() -> None:
    r = resolve(CLAIMED, [], {CLAIMED.key: 1}, unproven={1})
    assert (r.customer_id, r.link, r.merge, r.suggest) == (1, (), (), ())


def test_verified_sender_still_joins_its_owner() -> None:
    r = resolve(EMAIL, [], {EMAIL.key: 1})
    assert (r.customer_id, r.suggest) == (1, ())


@given(
    st.lists(st.sampled_from([EMAIL, PHONE, IdentityRef("external", "x")]), max_size=3),
    st.dictionaries(st.sampled_from([EMAIL.key, PHONE.key, ("external", "x")]), st.integers(1, 3)),
)
def test_resolution_never_links_an_owned_identity(
    also: list[IdentityRef], owners: dict[tuple[str, str], int]
) -> None:
    r = resolve(EMAIL, also, owners)
    assert all(ref.key not in owners for ref in r.link)
    assert r.customer_id not in r.merge
    assert all(r.customer_id is not None and r.customer_id < other for other in r.merge)
