"""`subcast keys`: API keys for colleagues and tools, each with only the scopes it needs (admin)."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote

from subcast_cli.arguments import command, group_parser
from subcast_cli.client import ApiClient
from subcast_cli.output import NOTHING, Console, moment, table

SCOPES = ("topics", "broadcasts", "subscribers:read", "admin")


def add_commands(resources: Any, common: argparse.ArgumentParser) -> None:
    actions = group_parser(resources, "keys", "create, list and revoke API keys (needs an admin key)")

    create = command(actions, "create", common, "a new key; its secret is shown this once", create_key)
    create.add_argument("name", metavar="NAME", help="who or what uses it, e.g. 'newsroom CMS'")
    create.add_argument(
        "--scope", action="append", dest="scopes", choices=SCOPES, required=True, help="repeat for several"
    )

    command(actions, "list", common, "every key, active and revoked (never their secrets)", list_keys)

    revoke = command(actions, "revoke", common, "refuse a key from now on, for good", revoke_key)
    revoke.add_argument("id", metavar="ID")


def create_key(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    created = client.post("/v1/keys", {"name": args.name, "scopes": args.scopes}).body
    if console.as_json:
        console.json(created)
        return 0
    console.lines(
        [
            f"Created API key {created.get('id')} ({created.get('name')}) with scopes "
            f"{', '.join(created.get('scopes', []))}:",
            "",
            f"    {created.get('key')}",
            "",
            "Copy it now: it will not be shown again (subcast keeps only a hash of it).",
            "Use it with:  export SUBCAST_API_KEY=<the key above>",
        ]
    )
    return 0


def list_keys(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    body = client.get("/v1/keys").body
    if console.as_json:
        console.json(body)
        return 0
    rows = [
        [
            key["id"],
            key.get("name", ""),
            ", ".join(key.get("scopes", [])),
            moment(key.get("created_at")),
            moment(key.get("last_used_at")) if key.get("last_used_at") else "never",
            f"revoked {moment(key['revoked_at'])}" if key.get("revoked_at") else "active",
        ]
        for key in body.get("keys", [])
    ]
    console.lines(table(["ID", "NAME", "SCOPES", "CREATED", "LAST USED", "STATE"], rows, {1: 30}))
    return 0


def revoke_key(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    revoked = client.delete(f"/v1/keys/{quote(args.id, safe='')}").body
    if console.as_json:
        console.json(revoked)
        return 0
    console.line(
        f"Revoked key {revoked.get('id', args.id)} ({revoked.get('name') or NOTHING}): "
        "requests with it are refused from now on."
    )
    return 0
