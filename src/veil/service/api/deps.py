"""Typed dependencies: the store, the settings, and the caller (who, with which role)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from veil.service.access import Caller, Role
from veil.service.settings import ServiceSettings
from veil.service.store import Store

_bearer = HTTPBearer(auto_error=False, description="a token from `veil token create NAME`")


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


def authenticate(store: Store, authorization: str | None) -> Caller:
    """The caller of an ``Authorization`` header; 401 when missing, unknown or revoked."""
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise unauthorized("missing API token: send 'Authorization: Bearer <token>'")
    caller = store.tokens.caller(secret.strip())
    if caller is None:
        raise unauthorized("invalid or revoked API token")
    return caller


def get_caller(
    request: Request,
    store: StoreDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller, as the guard found it before the body was read (else looked up now)."""
    found = getattr(request.state, "caller", None)
    if isinstance(found, Caller):
        return found
    return authenticate(store, request.headers.get("authorization"))


def needs(role: Role) -> Callable[[Caller], Caller]:
    """A dependency that lets through callers with ``role`` or a higher one (else 403)."""

    def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if not caller.role.includes(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"token {caller.name!r} is a {caller.role.value}; this needs a {role.value}",
            )
        return caller

    return check


CallerDep = Annotated[Caller, Depends(get_caller)]  # any role: reviewers and up
OperatorDep = Annotated[Caller, Depends(needs(Role.OPERATOR))]
AdminDep = Annotated[Caller, Depends(needs(Role.ADMIN))]
