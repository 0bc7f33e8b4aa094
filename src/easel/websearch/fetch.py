"""The guarded page fetcher: a URL from the web in, its bytes out, never a way into the host's network.

For every hop (the first URL and each redirect) the host name is resolved here, every
address it resolves to is checked (loopback, private, link-local, multicast, reserved,
unspecified, CGNAT, cloud metadata, and the same hidden in IPv4-mapped / NAT64 IPv6),
and the connection goes to the checked address itself: the URL is rewritten to the IP,
with `Host` and TLS SNI set to the name, so the HTTP client never resolves the name
again. That pinning is what defeats DNS rebinding (a name that answers a public address
to the check and a private one to the connection). Redirects are followed here, at most
`max_redirects`, each hop checked anew. The body is streamed and cut at `max_bytes`; the
whole fetch, redirects included, has one deadline. An operator allow-list (CIDRs or host
names, `settings.fetch_allow`) lets chosen internal addresses through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from easel.errors import EaselError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: host name, port -> the addresses it resolves to
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Not caught by `is_global` alone, or worth naming: metadata services, CGNAT, NAT64.
_ALWAYS_BLOCKED: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n) for n in (
    "169.254.169.254/32", "fd00:ec2::254/128", "100.64.0.0/10", "0.0.0.0/8", "255.255.255.255/32",
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
READABLE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/pdf")


class FetchError(EaselError):
    """A page could not be fetched; `url` is the page. Web search skips such pages, never fails on one."""

    status_code = 400
    error_type = "invalid_request_error"
    default_code = "fetch_failed"

    def __init__(self, message: str, *, url: str, code: str | None = None) -> None:
        super().__init__(message, param="url", code=code)
        self.url = url


class FetchRefused(FetchError):
    """The URL points into a network easel must not reach (or uses a scheme it does not fetch)."""

    default_code = "fetch_refused"


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int = 2_000_000
    timeout_seconds: float = 10.0
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str  # the final URL, after redirects
    content_type: str  # the media type, lower case, without parameters
    body: bytes
    truncated: bool = False  # cut at max_bytes
    charset: str | None = None


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver, as strings."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class AllowList:
    """Operator exceptions to the address check: networks (`10.0.0.0/8`, `127.0.0.1`) and host names."""

    def __init__(self, entries: Sequence[str] = ()) -> None:
        self.networks: list[IPNetwork] = []
        self.hosts: set[str] = set()
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                self.hosts.add(entry.strip().lower().rstrip("."))

    def allows(self, host: str, address: IPAddress) -> bool:
        return host.lower().rstrip(".") in self.hosts or any(address in net for net in self.networks)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden in an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def blocked_reason(address: IPAddress) -> str | None:
    """Why an address must not be fetched from, or None for a public one."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        return blocked_reason(inner)
    if any(address in net for net in _ALWAYS_BLOCKED):
        return "a reserved or metadata address"
    for label, flag in (("loopback", address.is_loopback), ("link-local", address.is_link_local),
                        ("multicast", address.is_multicast), ("unspecified", address.is_unspecified),
                        ("private", address.is_private), ("reserved", address.is_reserved)):
        if flag:
            return f"a {label} address"
    if not address.is_global:
        return "not a public address"
    return None


class GuardedFetcher:
    """Fetches public web pages under limits. One instance per studio; `aclose()` releases its client."""

    def __init__(self, *, limits: FetchLimits | None = None, allow: Sequence[str] = (),
                 resolver: Resolver | None = None, user_agent: str = "easel-web/0.1") -> None:
        self.limits = limits or FetchLimits()
        self.allow = AllowList(allow)
        self.resolver = resolver or system_resolver
        self.user_agent = user_agent
        # trust_env=False: a proxy would resolve the name itself, past the check
        # no keep-alive: connections are keyed by IP, and a TLS connection opened for one name
        # must not carry a request for another name on the same address
        self._http = httpx.AsyncClient(follow_redirects=False, trust_env=False,
                                       timeout=httpx.Timeout(self.limits.timeout_seconds),
                                       limits=httpx.Limits(max_keepalive_connections=0))

    async def fetch(self, url: str) -> FetchedPage:
        """The page at `url`, redirects followed; raises FetchRefused / FetchError."""
        try:
            async with asyncio.timeout(self.limits.timeout_seconds):
                return await self._follow(url)
        except TimeoutError as exc:
            raise FetchError(f"The page took longer than {self.limits.timeout_seconds:g} s.", url=url,
                             code="fetch_timeout") from exc

    async def _follow(self, url: str) -> FetchedPage:
        current = url
        for _hop in range(self.limits.max_redirects + 1):
            request = await self._pinned_request(current)
            try:
                response = await self._http.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise FetchError(f"Could not fetch the page: {exc}", url=current) from exc
            try:
                if response.is_redirect and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                if response.status_code >= 400:
                    raise FetchError(f"The page answered HTTP {response.status_code}.", url=current,
                                     code="fetch_http_error")
                return await self._read(current, response)
            finally:
                await response.aclose()
        raise FetchError(f"More than {self.limits.max_redirects} redirects.", url=url, code="fetch_redirects")

    async def _pinned_request(self, url: str) -> httpx.Request:
        """A GET for `url` that connects to a checked address of its host, never resolving it again."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchRefused(f"Only http and https URLs are fetched, not '{url[:100]}'.", url=url)
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = await self._checked_address(host, port, url)
        literal = f"[{address}]" if address.version == 6 else str(address)
        netloc = f"{literal}:{port}"
        target = parts._replace(netloc=netloc).geturl()
        host_header = host if parts.port is None else f"{host}:{parts.port}"
        if ":" in host:  # an IPv6 literal keeps its brackets in Host
            host_header = f"[{host}]" if parts.port is None else f"[{host}]:{parts.port}"
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        return self._http.build_request("GET", target, extensions=extensions, headers={
            "host": host_header, "user-agent": self.user_agent,
            "accept": "text/html,application/xhtml+xml,application/pdf;q=0.9,text/plain;q=0.8"})

    async def _checked_address(self, host: str, port: int, url: str) -> IPAddress:
        """The first address of `host`, once every address it resolves to has passed the check."""
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                resolved = await self.resolver(host, port)
            except OSError as exc:
                raise FetchError(f"Could not resolve '{host}': {exc}", url=url, code="fetch_dns") from exc
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolved]
        if not addresses:
            raise FetchError(f"'{host}' resolves to no address.", url=url, code="fetch_dns")
        for address in addresses:
            reason = blocked_reason(address)
            # every address must pass: a name that also resolves privately could be answered by that one
            if reason and not self.allow.allows(host, address):
                raise FetchRefused(f"Refused to fetch '{host}': it resolves to {address}, {reason}.", url=url)
        return addresses[0]

    async def _read(self, url: str, response: httpx.Response) -> FetchedPage:
        media = response.headers.get("content-type", "text/html").split(";", 1)[0].strip().lower()
        if media not in READABLE_TYPES:
            raise FetchError(f"The page is {media}, which easel does not read.", url=url, code="fetch_content_type")
        declared = response.headers.get("content-length")
        if media == "application/pdf" and declared and declared.isdigit() and int(declared) > self.limits.max_bytes:
            # a cut PDF cannot be read at all, unlike a cut HTML page
            raise FetchError(f"The PDF is larger than {self.limits.max_bytes} bytes.", url=url, code="fetch_too_large")
        chunks: list[bytes] = []
        size = 0
        truncated = False
        async for chunk in response.aiter_bytes():
            if size + len(chunk) > self.limits.max_bytes:
                chunks.append(chunk[: self.limits.max_bytes - size])
                truncated = True
                break  # leaving the block closes the connection: the rest is never downloaded
            chunks.append(chunk)
            size += len(chunk)
        if truncated and media == "application/pdf":
            raise FetchError(f"The PDF is larger than {self.limits.max_bytes} bytes.", url=url, code="fetch_too_large")
        return FetchedPage(url=url, content_type=media, body=b"".join(chunks), truncated=truncated,
                           charset=response.charset_encoding)

    async def aclose(self) -> None:
        await self._http.aclose()
