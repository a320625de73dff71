"""What a caller may name and how much a caller may hold: the checks behind every job input
and output, and each token's quotas (:class:`veil.service.policy.Policy`).

- S3 objects and prefixes are reachable only under the prefixes the policy allows the
  caller's team (``s3_allow``), compared on normalised keys; admins reach every bucket
  the service's credentials reach.
- An input that names an earlier job is checked as if the caller had named that job's
  own input: its upload, its S3 object, its URL or its watched file.
- Quotas count per token: jobs queued or running, upload bytes, unfinished uploads.
"""

from __future__ import annotations

from typing import Any

from veil.errors import VeilError
from veil.service import s3
from veil.service.access import Caller, Role
from veil.service.addresses import check_url_allowed
from veil.service.policy import EVERYONE, Policy
from veil.service.settings import ServiceSettings
from veil.service.store import Store

ACTIVE_STATES = ("queued", "running")


class Forbidden(VeilError):
    """The caller may not do this (403)."""


class OverQuota(VeilError):
    """The caller's token holds as much as the policy allows (429)."""


def allowed_prefixes(policy: Policy, caller: Caller) -> list[s3.S3Location]:
    named = list(policy.s3_allow.get(EVERYONE, []))
    if caller.team is not None:
        named += policy.s3_allow.get(caller.team, [])
    return [s3.parse_s3_url(p) for p in named]


def check_s3(policy: Policy, caller: Caller | None, loc: s3.S3Location, what: str) -> None:
    """Forbidden unless ``loc`` lies under a prefix the caller's team may use.

    ``caller`` None: the service itself (an admin's watch rule)."""
    if caller is None or caller.role == Role.ADMIN:
        return
    if not any(s3.is_under(loc, prefix) for prefix in allowed_prefixes(policy, caller)):
        raise Forbidden(
            f"{what} {loc.url}: not under an S3 prefix the policy allows your team "
            "(ask an admin to add it to s3_allow)"
        )


def check_source(
    store: Store, settings: ServiceSettings, source: dict[str, Any], caller: Caller
) -> None:
    """Raise unless ``caller`` may name this input itself (NotFound for an upload it may
    not see, Forbidden for an S3 object or a server file)."""
    kind = source.get("kind")
    if kind == "upload":
        store.uploads.get(source["upload_id"], caller)
    elif kind == "s3":
        loc = s3.S3Location(source["bucket"], s3.normal_key(source["key"]))
        check_s3(store.policy.get(), caller, loc, "input")
    elif kind == "url":
        check_url_allowed(source["url"], settings)
    elif caller.role != Role.ADMIN:  # a watched folder's file: an admin's rule made it
        raise Forbidden("this input is a file on the server: only admins may use it again")


def check_job_quota(store: Store, caller: Caller) -> None:
    limit = store.policy.get().quotas.jobs_queued
    if limit is None:
        return
    active = store.jobs.list(states=ACTIVE_STATES, token_name=caller.name, limit=limit + 1)
    if len(active) >= limit:
        raise OverQuota(
            f"token {caller.name!r} has {len(active)} job(s) queued or running, the most the "
            f"policy allows; wait for one to end"
        )


def check_upload_quota(store: Store, caller: Caller, adding: int, session: bool) -> None:
    """Before an upload of ``adding`` bytes (declared, or the limit when unknown) starts."""
    quotas = store.policy.get().quotas
    held, unfinished = store.uploads.usage(caller.name)
    if quotas.upload_sessions is not None and unfinished + session > quotas.upload_sessions:
        raise OverQuota(
            f"token {caller.name!r} has {unfinished} upload(s) not complete, the most the "
            "policy allows; finish or delete one"
        )
    if quotas.upload_bytes is not None and held + adding > quotas.upload_bytes:
        raise OverQuota(
            f"token {caller.name!r} keeps {held} upload bytes; {adding} more is over its "
            f"quota of {quotas.upload_bytes}; delete uploads it no longer needs"
        )
