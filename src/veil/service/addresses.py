"""Which URLs veil may reach: inputs from allow-listed prefixes, webhooks to public addresses.

URLs are compared in a normal form (:func:`normalise`): scheme and host in
lower case, the default port made explicit, each path segment percent-decoded,
``.`` and ``..`` resolved. A segment that decodes to something holding ``/`` or
``\\`` is refused outright (servers disagree on what it means), as are
credentials in input URLs. A prefix matches whole segments only:
``http://h/media/`` allows ``http://h/media/a.mp4`` but neither
``http://h/media-private/a.mp4`` nor ``http://h/media/%2e%2e/private/a.mp4``.
What is fetched is the normal form, so what was checked is what is asked for.

Webhooks go to http(s) URLs whose host resolves to public addresses only
(never loopback, private, link-local, multicast or reserved ones, IPv4-mapped
included, and the IPv4 addresses NAT64, 6to4, Teredo and IPv4-compatible IPv6 addresses
lead to) unless the policy's ``webhook_allow`` names a prefix of the URL. The
address checked is the address connected to (:func:`webhook_target`), so a DNS
answer that changes between the check and the request changes nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from veil.errors import VeilError
from veil.service.settings import ServiceSettings

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SAFE = "!$&'()*+,;=:@-._~"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class NormalURL:
    scheme: str
    host: str
    port: int
    segments: tuple[str, ...]  # decoded; a trailing "" for a path ending in "/"
    query: str
    userinfo: str | None

    @property
    def path(self) -> str:
        return "/" + "/".join(quote(s, safe=_SAFE) for s in self.segments)

    def text(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if _DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        user = f"{self.userinfo}@" if self.userinfo else ""
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{user}{host}{port}{self.path}{query}"

    def under(self, prefix: NormalURL) -> bool:
        """Is this URL at or below ``prefix``, comparing whole path segments?"""
        if (self.scheme, self.host, self.port) != (prefix.scheme, prefix.host, prefix.port):
            return False
        wanted = prefix.segments[:-1] if prefix.segments[-1:] == ("",) else prefix.segments
        return self.segments[: len(wanted)] == wanted


def normalise(url: str) -> NormalURL:
    """``url`` in normal form; VeilError if it is not a usable http(s) URL."""
    if any(ord(ch) < 0x21 or ch == "\x7f" for ch in url):
        raise VeilError(f"{url!r}: spaces and control characters are not allowed in URLs")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise VeilError(f"{url!r} is not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise VeilError(f"{url!r} is not an http(s) URL")
    try:
        host = parts.hostname.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise VeilError(f"{url!r}: the host name is not valid") from exc
    userinfo = parts.netloc.rpartition("@")[0] or None
    if "\\" in parts.path:
        raise VeilError(f"{url!r}: '\\' is not allowed in a URL path")
    segments: list[str] = []
    raw = parts.path.split("/")[1:] if parts.path else [""]
    for index, piece in enumerate(raw):
        segment = unquote(piece)
        if "/" in segment or "\\" in segment or "\x00" in segment:
            raise VeilError(f"{url!r}: an encoded '/' or '\\' in a path segment is not allowed")
        last = index == len(raw) - 1
        if segment == ".":
            segment = ""
            if not last:
                continue
        elif segment == "..":
            if not segments:
                raise VeilError(f"{url!r}: '..' goes above the root")
            segments.pop()
            if not last:
                continue
            segment = ""
        segments.append(segment)
    return NormalURL(
        scheme, host, port or _DEFAULT_PORTS[scheme], tuple(segments), parts.query, userinfo
    )


def check_url_allowed(url: str, settings: ServiceSettings) -> str:
    """The URL to fetch an input from; VeilError unless it is under an allowed prefix."""
    normal = normalise(url)
    if normal.userinfo:
        raise VeilError(f"{url!r}: credentials are not allowed in input URLs")
    prefixes = [normalise(p) for p in settings.url_allowlist]
    if not any(normal.under(p) for p in prefixes):
        raise VeilError(
            f"{url!r} is not on the URL allow-list "
            "(set VEIL_URL_ALLOWLIST or serve --allow-url PREFIX)"
        )
    return normal.text()


def _addresses(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise VeilError(f"webhook host {host!r} cannot be resolved") from exc
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # ::a.b.c.d, deprecated


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: IPv4-mapped and -compatible, NAT64
    (well-known and local prefixes), 6to4 and Teredo (server and client)."""
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address in _IPV4_COMPATIBLE or any(address in net for net in _NAT64):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found += list(address.teredo)
    return found


def is_public(address: IPAddress) -> bool:
    """A global unicast address, and so is every IPv4 address it embeds."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner:
            return all(is_public(v4) for v4 in inner)
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class WebhookTarget:
    url: str  # what to connect to: the checked address, or the URL itself when allowed
    host_header: str | None  # the URL's host, when connecting to its address
    server_name: str | None  # for TLS: the name the certificate must carry
    auth: tuple[str, str] | None = None  # credentials the URL named


def webhook_target(url: str, allow: list[str]) -> WebhookTarget:
    """Where to deliver a webhook; VeilError if the URL may not be called."""
    normal = normalise(url)
    if any(normal.under(normalise(prefix)) for prefix in allow):
        return WebhookTarget(normal.text(), None, None)
    addresses = _addresses(normal.host, normal.port)
    blocked = [a for a in addresses if not is_public(a)]
    if blocked or not addresses:
        raise VeilError(
            f"webhook {normal.scheme}://{normal.host}: {blocked[0] if blocked else 'no address'} "
            "is a loopback, private or link-local address (an admin may allow a prefix: "
            "policy webhook_allow)"
        )
    pinned = addresses[0]
    host = f"[{pinned}]" if pinned.version == 6 else str(pinned)
    query = f"?{normal.query}" if normal.query else ""
    port = "" if _DEFAULT_PORTS[normal.scheme] == normal.port else f":{normal.port}"
    user, _, password = (normal.userinfo or "").partition(":")
    return WebhookTarget(
        f"{normal.scheme}://{host}:{normal.port}{normal.path}{query}",
        f"{normal.host}{port}",
        normal.host if normal.scheme == "https" else None,
        (unquote(user), unquote(password)) if normal.userinfo else None,
    )


def check_webhook_url(url: str, allow: list[str]) -> None:
    """VeilError unless webhooks may be sent to ``url`` (checked again at each delivery).

    A new URL may not carry credentials: they would be stored in clear with the job or
    preset; a ``webhook_secret`` signs each delivery instead."""
    if normalise(url).userinfo:
        raise VeilError(
            "webhook URLs may not carry credentials (they would be stored in clear): give a "
            "webhook_secret, and check the X-Veil-Signature of each delivery"
        )
    webhook_target(url, allow)
