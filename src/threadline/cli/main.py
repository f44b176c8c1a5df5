"""`threadline`: run it, migrate it, add users, tokens and inboxes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import sqlalchemy as sa
import typer
from rich.console import Console

from threadline.actions.errors import ActionError
from threadline.actions.inboxes import add_inbox
from threadline.actions.users import ROLES, add_user, deactivate_user, issue_token, set_role
from threadline.bootstrap import Container, bootstrap
from threadline.cli.chat import chat_options, print_chat_setup
from threadline.cli.serve import run_server
from threadline.cli.serve import serve as serve_async
from threadline.logs import configure_logging
from threadline.passwords import Passwords
from threadline.settings import Settings
from threadline.storage import migrate as migrations
from threadline.storage.db import Tx
from threadline.storage.private import make_private
from threadline.storage.tables import inboxes, users

__all__ = ["app", "main"]

app = typer.Typer(
    help="Threadline: every channel, one customer, one timeline.", no_args_is_help=True
)
user_app = typer.Typer(help="Agents and admins.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
inbox_app = typer.Typer(
    help="Inboxes (one configured instance of a channel).", no_args_is_help=True
)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(inbox_app, name="inbox")
console = Console(soft_wrap=True)  # long lines (a curl command) must stay copyable
T = TypeVar("T")

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url", envvar="THREADLINE_DATABASE_URL", help="sqlite:///… or postgresql://…"
    ),
]


def _run(container: Container, fn: Callable[[Tx], T]) -> T:
    """Run one action for a command; a refused action is a one-line error, not a traceback."""
    try:
        return container.db.write_sync(fn)
    except ActionError as exc:
        container.db.close()
        console.print(f"[red]Error:[/] {exc}")
        raise typer.Exit(1) from exc


def _settings(database_url: str | None, **overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if database_url:
        values["database_url"] = database_url
    return Settings(**values)  # type: ignore[arg-type]


@app.command()
def migrate(database_url: DbOpt = None) -> None:
    """Create or upgrade the database schema."""
    settings = _settings(database_url)
    make_private(settings.data_dir, settings.database_url)
    migrations.upgrade(settings.database_url)
    console.print(f"[green]Database is up to date[/] ({settings.database_url})")


@app.command()
def serve(
    database_url: DbOpt = None,
    host: Annotated[str | None, typer.Option(envvar="THREADLINE_HOST")] = None,
    port: Annotated[int | None, typer.Option(envvar="THREADLINE_PORT")] = None,
    smtp_port: Annotated[
        int | None, typer.Option(envvar="THREADLINE_SMTP_PORT", help="0 turns SMTP off")
    ] = None,
    no_jobs: Annotated[
        bool, typer.Option("--no-jobs", help="Leave jobs to `threadline worker`")
    ] = False,
) -> None:
    """Serve the web app, webhooks, SMTP and jobs in one process."""
    settings = _settings(database_url, host=host, port=port, smtp_port=smtp_port)
    if no_jobs:
        settings.run_jobs = False
    make_private(settings.data_dir, settings.database_url)
    migrations.upgrade(settings.database_url)
    container = bootstrap(settings)
    ready = f"Threadline on http://{settings.host}:{settings.port}"
    if settings.smtp_port:
        ready += f" · SMTP on {settings.smtp_host}:{settings.smtp_port}"
    run_server(serve_async(container, on_ready=ready))


@app.command()
def worker(database_url: DbOpt = None) -> None:
    """Run jobs only (deliveries, retries), for deployments with several processes."""
    settings = _settings(database_url)
    configure_logging(settings.log_level)
    container = bootstrap(settings)

    async def run() -> None:
        # The worker owns the background edges too: IMAP mailboxes are polled here
        # when the web processes run with --no-jobs.
        await container.start(jobs=False, mailboxes=True)
        stop = asyncio.Event()
        try:
            await container.runner.run(stop)
        finally:
            await container.aclose()

    asyncio.run(run())


@app.command()
def demo(
    port: Annotated[int, typer.Option(envvar="THREADLINE_PORT")] = 8000,
    smtp_port: Annotated[int, typer.Option(envvar="THREADLINE_SMTP_PORT")] = 2525,
    database_url: DbOpt = None,
) -> None:
    """Seed a realistic demo workspace on SQLite and serve it."""
    from threadline.cli.demo import DEMO_LOGIN, seed_demo, simulator_url

    settings = _settings(
        database_url or "sqlite:///threadline-demo.db",
        port=port,
        smtp_port=smtp_port,
        sandbox_outbox=Path("threadline-outbox"),
        sandbox=True,  # every demo inbox sends to the provider stand-ins
    )
    migrations.upgrade(settings.database_url)
    container = bootstrap(settings)
    token = asyncio.run(seed_demo(container))
    container = bootstrap(settings)
    email, password = DEMO_LOGIN
    console.print(f"[bold]Threadline demo[/] at http://{settings.host}:{settings.port}")
    console.print(f"  Sign in as [cyan]{email}[/] with password [cyan]{password}[/]")
    if token:
        console.print(
            f"  API token: [cyan]{token}[/]  (try: curl -H 'Authorization: Bearer {token}' "
            f"http://{settings.host}:{settings.port}/api/v1/conversations)"
        )
    else:
        console.print(
            "  API token: printed on the first run; make another with "
            f"[cyan]threadline token add --user {email} --database-url {settings.database_url}[/]"
        )
    console.print(f"  Customer simulator: {simulator_url(settings)}")
    console.print(
        f"  SMTP on {settings.smtp_host}:{settings.smtp_port} for support@acme.test; "
        "outbound mail is written to ./threadline-outbox/"
    )
    run_server(serve_async(container))


@user_app.command("add")
def user_add(
    email: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}")] = "agent",
    name: Annotated[str | None, typer.Option()] = None,
    database_url: DbOpt = None,
) -> None:
    """Add an agent (or admin, or viewer) who can sign in."""
    settings = _settings(database_url)
    container = bootstrap(settings)
    hashed = Passwords.from_settings(settings).hash_sync(password)
    user_id = _run(
        container,
        lambda tx: add_user(
            tx,
            email=email,
            name=name or email.split("@")[0],
            role=role,
            password_hash=hashed,
            actor="cli",
        ),
    )
    container.db.close()
    console.print(f"Added {role} {email} (user {user_id})")


@user_app.command("set-role")
def user_set_role(
    email: str,
    role: Annotated[str, typer.Argument(help=f"One of {', '.join(ROLES)}")],
    database_url: DbOpt = None,
) -> None:
    """Change a user's role; it holds from their next request (UI and API tokens)."""
    container = bootstrap(_settings(database_url))
    _run(container, lambda tx: set_role(tx, email=email, role=role, actor="cli"))
    container.db.close()
    console.print(f"{email} is now {role}")


@user_app.command("deactivate")
def user_deactivate(email: str, database_url: DbOpt = None) -> None:
    """Stop a user: their sessions end now and their API tokens stop working."""
    container = bootstrap(_settings(database_url))
    _run(container, lambda tx: deactivate_user(tx, email=email, actor="cli"))
    container.db.close()
    console.print(f"Deactivated {email}")


@token_app.command("add")
def token_add(
    user: Annotated[str, typer.Option("--user", help="The user's email")],
    name: Annotated[str, typer.Option(help="What the token is for")] = "cli",
    database_url: DbOpt = None,
) -> None:
    """Issue an API token; it is shown once and stored hashed."""
    container = bootstrap(_settings(database_url))
    token = _run(container, lambda tx: issue_token(tx, email=user, name=name, actor="cli"))
    container.db.close()
    typer.echo(token)


Opt = typer.Option


@inbox_app.command("add")
def inbox_add(
    kind: Annotated[
        str,
        typer.Argument(
            help="email, api, sms, voice, chat, whatsapp, messenger, instagram or telegram"
        ),
    ],
    address: Annotated[
        str,
        Opt(
            help="email: the address; sms/voice: the Twilio number (E.164); whatsapp: the "
            "phone number id; messenger: the page id; instagram: the IG account id; "
            "telegram: the bot's username; chat: the widget key (empty: one is made up)"
        ),
    ] = "",
    name: Annotated[str, Opt()] = "Support",
    account_sid: Annotated[str | None, Opt(help="Twilio Account SID (sms, voice)")] = None,
    auth_token: Annotated[str | None, Opt(help="Twilio auth token: signs webhooks")] = None,
    app_secret: Annotated[str | None, Opt(help="Meta app secret: signs webhooks")] = None,
    access_token: Annotated[str | None, Opt(help="Meta system-user or page token")] = None,
    verify_token: Annotated[str | None, Opt(help="Meta webhook verify token")] = None,
    bot_token: Annotated[str | None, Opt(help="Telegram bot token")] = None,
    secret_token: Annotated[str | None, Opt(help="Telegram webhook secret token")] = None,
    webhook_secret: Annotated[str | None, Opt(help="email/api webhook HMAC secret")] = None,
    origin: Annotated[
        list[str] | None, Opt(help="chat: a site that may embed the widget (repeat it)")
    ] = None,
    color: Annotated[str | None, Opt(help="chat: #rrggbb")] = None,
    greeting: Annotated[str | None, Opt(help="chat: shown at the top of a new chat")] = None,
    avatar_url: Annotated[str | None, Opt(help="chat: https URL of the header's image")] = None,
    position: Annotated[str | None, Opt(help="chat: right or left")] = None,
    prechat: Annotated[str | None, Opt(help="chat: off, optional or required")] = None,
    sandbox: Annotated[bool, Opt("--sandbox", help="send to the local sandbox")] = False,
    config: Annotated[str, Opt(help="more settings as JSON (smtp, imap, hours…)")] = "{}",
    database_url: DbOpt = None,
) -> None:
    """Configure an inbox: where messages arrive, how replies leave, what signs webhooks."""
    settings = {
        **json.loads(config),
        **{
            k: v
            for k, v in {
                "account_sid": account_sid,
                "auth_token": auth_token,
                "app_secret": app_secret,
                "access_token": access_token,
                "verify_token": verify_token,
                "bot_token": bot_token,
                "secret_token": secret_token,
                "webhook_secret": webhook_secret,
            }.items()
            if v is not None
        },
    }
    if sandbox:
        settings["sandbox"] = True
    try:
        settings |= chat_options(
            kind,
            origin=origin,
            color=color,
            greeting=greeting,
            avatar_url=avatar_url,
            position=position,
            prechat=prechat,
        )
    except ValueError as exc:
        console.print(f"[red]Error:[/] {exc}")
        raise typer.Exit(1) from exc
    container = bootstrap(_settings(database_url))
    inbox_id = _run(
        container,
        lambda tx: add_inbox(
            tx,
            channel=kind,
            name=name,
            address=address,
            config=settings,
            secret=container.bus.cfg.secret_key,
        ),
    )
    stored = container.db.read_sync(
        lambda c: c.execute(sa.select(inboxes.c.address).where(inboxes.c.id == inbox_id)).scalar()
    )
    console.print(f"Added {kind} inbox {stored} (inbox {inbox_id})")
    if kind == "chat":
        print_chat_setup(console, container, inbox_id, _settings(database_url).base_url())
    container.db.close()
    if sandbox and not _settings(database_url).sandbox:
        console.print(
            "This inbox sends to the local sandbox: serve with THREADLINE_SANDBOX=1 "
            "(never on a production server)"
        )
    hint = _WEBHOOK_HINTS.get(kind)
    if hint:
        console.print(
            "Point the provider at: "
            + hint.format(base=_settings(database_url).base_url(), id=inbox_id)
        )


_WEBHOOK_HINTS = {
    "sms": "{base}/webhooks/twilio/sms (Messaging webhook); "
    "delivery statuses arrive at {base}/webhooks/twilio/status",
    "voice": "{base}/webhooks/twilio/voice (Voice webhook, POST)",
    "whatsapp": "{base}/webhooks/meta (callback URL, with your verify token); "
    "subscribe to 'messages'",
    "messenger": "{base}/webhooks/meta; subscribe to messages, message_echoes, "
    "message_deliveries and message_reads",
    "instagram": "{base}/webhooks/meta, subscribe to messages",
    "telegram": "{base}/webhooks/telegram/{id} via setWebhook with your secret token",
    "email": "SMTP to this server, or POST raw mail to {base}/webhooks/email/{id}",
}


# -- teams: who works which inboxes ------------------------------------------------------
team_app = typer.Typer(help="Teams scope users to inboxes.", no_args_is_help=True)
app.add_typer(team_app, name="team")


@team_app.command("add")
def team_add(name: str, database_url: DbOpt = None) -> None:
    """Create a team."""
    from threadline.actions.teams import create_team

    container = bootstrap(_settings(database_url))
    team_id = _run(container, lambda tx: create_team(tx, name=name, actor="cli"))
    container.db.close()
    console.print(f"Added team {name} (team {team_id})")


@team_app.command("add-member")
def team_add_member(
    team: Annotated[str, typer.Argument(help="The team's name")],
    email: Annotated[str, typer.Argument(help="The user's email")],
    restrict: Annotated[
        bool, Opt("--restrict", help="From now on the user sees only their teams' inboxes")
    ] = False,
    database_url: DbOpt = None,
) -> None:
    """Add a user to a team."""
    from threadline.actions.teams import add_team_member, set_inbox_scope, team_id_by_name

    def add(tx: Tx) -> None:
        user_id = tx.conn.execute(
            sa.select(users.c.id).where(users.c.email == email.strip().lower())
        ).scalar()
        if user_id is None:
            raise ActionError(f"no user with the email {email}")
        add_team_member(tx, team_id_by_name(tx, team), user_id, actor="cli")
        if restrict:
            set_inbox_scope(tx, user_id, all_inboxes=False, actor="cli")

    container = bootstrap(_settings(database_url))
    _run(container, add)
    container.db.close()
    sees = "only their teams' inboxes" if restrict else "unchanged"
    console.print(f"Added {email} to {team} (what they see: {sees})")


@team_app.command("add-inbox")
def team_add_inbox(
    team: Annotated[str, typer.Argument(help="The team's name")],
    inbox_id: Annotated[int, typer.Argument(help="The inbox id (threadline inbox add prints it)")],
    database_url: DbOpt = None,
) -> None:
    """Give a team an inbox to work."""
    from threadline.actions.teams import add_team_inbox, team_id_by_name

    container = bootstrap(_settings(database_url))
    _run(
        container,
        lambda tx: add_team_inbox(tx, team_id_by_name(tx, team), inbox_id, actor="cli"),
    )
    container.db.close()
    console.print(f"Team {team} now works inbox {inbox_id}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
