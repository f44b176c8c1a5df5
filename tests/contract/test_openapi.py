"""The OpenAPI schema is a checked artifact: a change to it shows in review.

After an intended change to the API, regenerate the snapshot with
``THREADLINE_UPDATE_SNAPSHOT=1 pytest tests/contract/test_openapi.py`` and commit
tests/contract/openapi.json with the change.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from threadline.bootstrap import bootstrap
from threadline.settings import Settings
from threadline.web.app import create_app

SNAPSHOT = Path(__file__).with_name("openapi.json")
UPDATE = os.environ.get("THREADLINE_UPDATE_SNAPSHOT") == "1"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Litestar]:
    """The schema does not depend on the database: one SQLite app, never started."""
    data = tmp_path_factory.mktemp("openapi")
    settings = Settings(database_url=f"sqlite:///{data}/t.db", data_dir=data, secret_key="x")
    container = bootstrap(settings)
    yield create_app(container, manage_lifecycle=False)
    container.db.close()


def _text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_schema_matches_the_committed_snapshot(app: Litestar) -> None:
    current = _text(app.openapi_schema.to_schema())
    if UPDATE:
        SNAPSHOT.write_text(current)
    committed = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
    if current != committed:
        diff = difflib.unified_diff(
            committed.splitlines(), current.splitlines(), "committed", "generated", lineterm=""
        )
        pytest.fail(
            "the OpenAPI schema changed; if intended, run THREADLINE_UPDATE_SNAPSHOT=1 "
            "pytest tests/contract/test_openapi.py and commit the snapshot\n"
            + "\n".join(list(diff)[:200])
        )


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_every_api_answer_has_a_documented_shape(app: Litestar) -> None:
    schema = app.openapi_schema.to_schema()
    empty = []
    for path, item in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, op in item.items():
            for status, response in op["responses"].items():
                if not status.startswith("2"):
                    continue
                body = response["content"]["application/json"]["schema"]
                body = _resolve(schema, body.get("items", body))
                if not body.get("properties"):
                    empty.append(f"{method.upper()} {path} {status}")
    assert empty == []


def test_the_docs_page_is_served(app: Litestar) -> None:
    with TestClient(app) as client:
        page = client.get("/api/v1/docs")
        spec = client.get("/api/v1/openapi.json")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "SwaggerUIBundle" in page.text
    assert spec.json()["info"]["title"] == "Threadline"
