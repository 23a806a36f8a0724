"""``comptroller users|tokens|audit``: who may call the API, and the tamper-evident record.

The CLI runs beside the database with its credentials, so it acts without a token; every change
it makes is audited under ``cli:<login name>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated, TypeVar

import typer
from sqlalchemy.orm import Session

from comptroller.cli.changes import JsonOpt, cli_actor
from comptroller.cli.output import console, fail, print_json, table
from comptroller.context import Context
from comptroller.errors import ComptrollerError
from comptroller.governance import audit, users
from comptroller.governance.demo_users import demo_credentials_text, ensure_demo_users
from comptroller.governance.rbac import Role, TokenScope

users_app = typer.Typer(help="Users of the API and console, their roles and teams.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)
audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)

T = TypeVar("T")
ROLE_HELP = f"Role, repeatable: {', '.join(r.value for r in Role)}."


@contextmanager
def state_transaction() -> Iterator[Session]:
    """One state transaction; a ComptrollerError rolls it back and exits with its message."""
    with Context() as ctx, ctx.state.session() as session:
        try:
            with session.begin():
                yield session
        except ComptrollerError as exc:
            raise fail(exc) from exc


def run(work: Callable[[Session], T]) -> T:
    with state_transaction() as session:
        return work(session)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Lowercase login name.")],
    role: Annotated[list[str] | None, typer.Option(help=ROLE_HELP)] = None,
    team: Annotated[list[str] | None, typer.Option(help="Team the user owns, repeatable.")] = None,
    password: Annotated[str | None, typer.Option(help="Console password (8+ characters).")] = None,
    prompt_password: Annotated[bool, typer.Option("--prompt-password", help="Ask for the password.")] = False,
) -> None:
    """Create a user. Without a password the user signs in only with API tokens."""
    if prompt_password:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    user = run(
        lambda s: users.user_json(
            users.create_user(
                s, username, actor=cli_actor(), password=password, roles=role or [], teams=team or []
            )
        )
    )
    console.print(f"[green]created[/] user {user['username']} (roles: {', '.join(user['roles']) or 'none'})")


@users_app.command("list")
def users_list(as_json: JsonOpt = False) -> None:
    """Every user with their roles and teams."""
    rows = run(lambda s: [users.user_json(u) for u in users.list_users(s)])
    if as_json:
        print_json(rows)
        return
    table(
        "users",
        ["username", "roles", "teams", "password", "disabled"],
        [
            [r["username"], ", ".join(r["roles"]), ", ".join(r["teams"]), r["has_password"], r["disabled"]]
            for r in rows
        ],
    )


def _change(username: str, roles: list[str] | None, teams: list[str] | None, *, grant: bool) -> None:
    user = run(
        lambda s: users.user_json(
            users.change_access(
                s, username, actor=cli_actor(), grant=grant, roles=roles or [], teams=teams or []
            )
        )
    )
    console.print(
        f"{user['username']}: roles {', '.join(user['roles']) or 'none'}; "
        f"teams {', '.join(user['teams']) or 'none'}"
    )


@users_app.command("grant")
def users_grant(
    username: str,
    role: Annotated[list[str] | None, typer.Option(help=ROLE_HELP)] = None,
    team: Annotated[list[str] | None, typer.Option(help="Team, repeatable.")] = None,
) -> None:
    """Add roles or team ownership to a user."""
    _change(username, role, team, grant=True)


@users_app.command("revoke")
def users_revoke(
    username: str,
    role: Annotated[list[str] | None, typer.Option(help=ROLE_HELP)] = None,
    team: Annotated[list[str] | None, typer.Option(help="Team, repeatable.")] = None,
) -> None:
    """Remove roles or team ownership from a user."""
    _change(username, role, team, grant=False)


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Stop a user's tokens and sessions at once; the user and their audit trail remain."""
    run(lambda s: users.set_disabled(s, username, True, actor=cli_actor()))
    console.print(f"[green]disabled[/] {username}")


@users_app.command("enable")
def users_enable(username: str) -> None:
    """Let a disabled user's API tokens work again; they sign in afresh."""
    run(lambda s: users.set_disabled(s, username, False, actor=cli_actor()))
    console.print(f"[green]enabled[/] {username}")


@tokens_app.command("create")
def tokens_create(
    username: Annotated[str, typer.Argument(help="Whose token; it carries this user's roles.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "",
    scope: Annotated[str, typer.Option(help="all, or ingest (OTLP receiver only).")] = TokenScope.ALL.value,
    expires_days: Annotated[
        int | None, typer.Option(min=1, help="Days until it expires; default never.")
    ] = None,
) -> None:
    """Create an API token and print its secret, which is not stored and cannot be shown again."""
    issued = run(
        lambda s: users.create_token(
            s,
            username,
            actor=cli_actor(),
            name=name,
            scope=scope,
            expires_in=timedelta(days=expires_days) if expires_days else None,
        )
    )
    console.print(f"token {issued.credential.id} for {username} (scope {issued.credential.scope}):")
    typer.echo(issued.secret)


@tokens_app.command("list")
def tokens_list(
    username: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """API tokens (never their secrets)."""
    rows = run(lambda s: [users.token_json(c, n) for c, n in users.list_tokens(s, username)])
    if as_json:
        print_json(rows)
        return
    table(
        "API tokens",
        ["id", "user", "name", "scope", "created", "last used", "expires", "revoked"],
        [
            [
                r["id"],
                r["username"],
                r["name"],
                r["scope"],
                r["created_at"],
                r["last_used_at"],
                r["expires_at"],
                r["revoked_at"],
            ]
            for r in rows
        ],
    )


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[str, typer.Argument(help="The token's id from tokens list.")]) -> None:
    """Revoke an API token at once; requests using it get 401."""
    run(lambda s: users.revoke_token(s, token_id, actor=cli_actor()))
    console.print(f"[green]revoked[/] token {token_id}")


@audit_app.command("list")
def audit_list(
    action: Annotated[str | None, typer.Option(help="Action prefix, e.g. use_case.")] = None,
    subject: Annotated[str | None, typer.Option(help="Exact subject, e.g. user:alice.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Newest entries first."""
    rows = run(
        lambda s: [
            audit.entry_json(e) for e in audit.list_entries(s, action=action, subject=subject, limit=limit)
        ]
    )
    if as_json:
        print_json(rows)
        return
    table(
        "audit log",
        ["seq", "at", "actor", "action", "subject", "detail", "hash"],
        [
            [
                r["seq"],
                r["at"],
                r["actor"],
                r["action"],
                r["subject"],
                audit.canonical_json(r["detail"])[:80],
                str(r["hash"])[:12],
            ]
            for r in rows
        ],
    )


@audit_app.command("verify")
def audit_verify(as_json: JsonOpt = False) -> None:
    """Recompute the hash chain; exit 1 naming the first missing or edited entry."""
    result = run(audit.verify)
    if as_json:
        print_json(result.as_json())
    elif result.ok:
        console.print(f"[green]audit log intact[/]: {result.message}; head {result.head_hash}")
    else:
        console.print(
            f"[bold red]audit log broken[/] at entry {result.first_bad_seq} ({result.problem}): {result.message}"
        )
    if not result.ok:
        raise typer.Exit(code=1)


def demo_sign_in(ctx: Context) -> None:
    """Create the demo users (once) and print how to sign in as each."""
    with ctx.state.session() as session, session.begin():
        ensure_demo_users(session)
    console.print(demo_credentials_text())
