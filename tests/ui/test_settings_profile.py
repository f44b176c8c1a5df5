"""The business profile under Settings: the server's THREADLINE_BUSINESS_* values
until an admin saves one, then the saved one, on the page and in the database."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tests.support.settings_ui import Browser, audit, signed_in_admin, user_id
from tests.support.ui import csrf_token, make_user, sign_in

from threadline.bootstrap import Container
from threadline.queries.profile import business_profile
from threadline.settings import Settings

pytestmark = pytest.mark.anyio

PAGE = "/settings/profile"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A deployment that set its profile in the environment before the page could."""
    return settings.model_copy(
        update={
            "business_name": "Old Shop",
            "business_time_zone": "Europe/Berlin",
            "business_signature": "Old Shop support",
        }
    )


@pytest.fixture
async def admin(container: Container, served: str) -> AsyncIterator[Browser]:
    async with signed_in_admin(container, served) as browser:
        yield browser


async def stored(c: Container) -> dict[str, Any]:
    return await c.db.read(lambda conn: business_profile(conn, c.settings))


def shown(page: httpx.Response) -> str:
    return html.unescape(page.text)


async def test_the_environment_defaults_show_before_any_edit(
    container: Container, admin: Browser
) -> None:
    page = await admin.get(PAGE)
    assert page.status_code == 200
    assert 'name="name" maxlength="200" required value="Old Shop"' in page.text
    assert 'value="Europe/Berlin"' in page.text
    assert ">Old Shop support</textarea>" in page.text
    assert "Not saved here yet" in page.text
    assert (await stored(container))["updated_at"] is None
    assert "Old Shop" in (await admin.get("/settings")).text


async def test_an_admin_edits_the_profile_and_the_page_shows_it(
    container: Container, admin: Browser
) -> None:
    saved = await admin.post(
        PAGE,
        {
            "name": "  Acme & Co ",
            "time_zone": "Europe/Lisbon",
            "email_signature": "-- \r\nAcme support\r\n<b>not bold</b>\r\n",
        },
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{PAGE}?done=profile_saved"

    page = await admin.get(saved.headers["location"])
    assert "The business profile was saved." in page.text
    assert 'value="Acme &amp; Co"' in page.text
    assert 'value="Europe/Lisbon"' in page.text
    assert ">-- \nAcme support\n&lt;b&gt;not bold&lt;/b&gt;</textarea>" in page.text
    assert "Old Shop" not in page.text
    assert "Saved here" in page.text
    assert "Acme &amp; Co" in (await admin.get("/settings")).text

    ada = await user_id(container, "ada@acme.test")
    row = await stored(container)
    assert (row["name"], row["time_zone"], row["email_signature"], row["updated_by"]) == (
        "Acme & Co",
        "Europe/Lisbon",
        "-- \nAcme support\n<b>not bold</b>",
        ada,
    )
    assert row["updated_at"] is not None
    assert await audit(container, "business_profile.set") == [
        (
            f"user:{ada}",
            "business_profile",
            {"name": "Acme & Co", "time_zone": "Europe/Lisbon", "signature": True},
        )
    ]

    # Saving again replaces the one row; an empty signature stores none.
    again = await admin.post(PAGE, {"name": "Acme", "time_zone": "UTC", "email_signature": ""})
    assert again.status_code == 303
    row = await stored(container)
    assert (row["name"], row["time_zone"], row["email_signature"]) == ("Acme", "UTC", None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"name": "Acme", "time_zone": "Mars/Olympus_Mons"},
            "the time zone must be an IANA zone such as Europe/Lisbon",
        ),
        (
            {"name": "Acme", "time_zone": "posixrules"},
            "the time zone must be an IANA zone such as Europe/Lisbon",
        ),
        ({"name": "   ", "time_zone": "UTC"}, "the business needs a name of 1 to 200 characters"),
        ({"name": "x" * 201, "time_zone": "UTC"}, "the business needs a name of 1 to 200"),
        ({"name": "A\x00cme", "time_zone": "UTC"}, "cannot hold control characters"),
        (
            {"name": "Acme", "time_zone": "UTC", "email_signature": "s" * 2001},
            "the email signature holds at most 2000 characters",
        ),
    ],
)
async def test_a_refused_profile_comes_back_with_its_error_and_nothing_is_stored(
    container: Container, admin: Browser, body: dict[str, str], message: str
) -> None:
    refused = await admin.post(PAGE, body)
    assert refused.status_code == 422
    assert message in shown(refused)
    assert 'role="alert"' in refused.text
    if body["name"].strip() and len(body["name"]) <= 200 and "\x00" not in body["name"]:
        assert f'value="{body["name"]}"' in refused.text  # typed again for them
    row = await stored(container)
    assert (row["name"], row["updated_at"]) == ("Old Shop", None)
    assert await audit(container, "business_profile.set") == []


async def test_an_agent_can_neither_see_nor_change_the_profile(
    container: Container, served: str
) -> None:
    await make_user(container, "sam@acme.test")
    async with httpx.AsyncClient(base_url=served) as sam:
        assert (await sign_in(sam, "sam@acme.test")).status_code == 302
        assert (await sam.get(PAGE)).status_code == 403
        token = await csrf_token(sam, "/inbox")
        body = {"_csrf_token": token, "name": "Sam's", "time_zone": "UTC"}
        assert (await sam.post(PAGE, data=body)).status_code == 403
    assert (await stored(container))["name"] == "Old Shop"
