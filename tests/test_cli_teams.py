"""`threadline team`: an operator restricts an agent to their team's inboxes."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from threadline.cli.main import app
from threadline.queries.scope import Scope, load_scope


def test_team_commands_restrict_an_agent_to_their_teams_inboxes(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path}/t.db"
    env = {"THREADLINE_DATABASE_URL": url, "THREADLINE_DATA_DIR": str(tmp_path)}

    def run(*args: str) -> str:
        r = runner.invoke(app, list(args), env=env)
        assert r.exit_code == 0, r.output
        return r.output

    run("migrate")
    run("user", "add", "rosa@acme.test", "--password", "pw")
    run("inbox", "add", "email", "--address", "billing@acme.test")  # inbox 1
    run("inbox", "add", "email", "--address", "sales@acme.test")  # inbox 2
    run("team", "add", "Billing")
    assert runner.invoke(app, ["team", "add", "Billing"], env=env).exit_code == 1  # one name
    run("team", "add-inbox", "Billing", "1")
    run("team", "add-member", "Billing", "rosa@acme.test", "--restrict")
    missing = runner.invoke(app, ["team", "add-member", "Nope", "rosa@acme.test"], env=env)
    assert missing.exit_code == 1
    assert "no team named Nope" in missing.output

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert load_scope(conn, 1, "agent") == Scope(inbox_ids=frozenset({1}))
    engine.dispose()
