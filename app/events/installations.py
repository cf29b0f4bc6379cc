"""installation / installation_repositories: remember the installation, prepare its labels."""

from __future__ import annotations

from app.events.payloads import InstallationEvent
from app.events.router import Delivery, Router
from app.flows import steps

router = Router()


async def _record(event: InstallationEvent, active: bool) -> None:
    if event.installation is None:
        return
    account = event.account.login if event.account else _account_of(event)
    await steps.record_installation(event.installation.id, account, active)


def _account_of(event: InstallationEvent) -> str:
    repos = event.repositories or event.repositories_added
    return repos[0].owner if repos else "?"


@router.on("ping")
async def on_ping(delivery: Delivery) -> str:
    return f"pong ({delivery.payload.get('zen', '')})"


@router.on("installation")
async def on_installation(delivery: Delivery) -> str:
    event = InstallationEvent.model_validate(_with_account(delivery.payload))
    if event.installation is None:
        return "ignored: no installation in payload"
    if event.action in {"deleted", "suspend"}:
        await _record(event, active=False)
        return f"installation {event.installation.id} {event.action}"
    await _record(event, active=True)
    return await _prepare(event.installation.id, [r.full_name for r in event.repositories])


@router.on("installation_repositories", "added")
async def on_repositories_added(delivery: Delivery) -> str:
    event = InstallationEvent.model_validate(_with_account(delivery.payload))
    if event.installation is None:
        return "ignored: no installation in payload"
    await _record(event, active=True)
    return await _prepare(event.installation.id, [r.full_name for r in event.repositories_added])


async def _prepare(installation_id: int, repos: list[str]) -> str:
    created = 0
    for repo in repos:
        created += len(await steps.ensure_labels(installation_id, repo))
    return f"installation {installation_id}: {len(repos)} repositories, {created} labels created"


def _with_account(payload: dict) -> dict:  # type: ignore[type-arg]
    """The account sits inside `installation` in the payload; lift it for the view."""
    installation = payload.get("installation")
    if isinstance(installation, dict) and "account" in installation and "account" not in payload:
        return {**payload, "account": installation["account"]}
    return payload
