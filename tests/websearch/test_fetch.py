"""The guarded fetcher against real local pages: what it refuses, what it limits, what it reads."""

from __future__ import annotations

import ipaddress

import pytest

from easel.websearch.extract import extract
from easel.websearch.fetch import FetchError, FetchLimits, FetchRefused, GuardedFetcher, blocked_reason
from tests.fakes import web_pages

LOOPBACK = ["127.0.0.1/32"]


def resolver_for(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """A resolver that knows only `table`: the injection point fetch.py offers for DNS."""
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]
    return resolve


async def test_loopback_is_refused_unless_allow_listed(pages) -> None:  # type: ignore[no-untyped-def]
    url, _ = pages
    fetcher = GuardedFetcher()
    with pytest.raises(FetchRefused, match="loopback"):
        await fetcher.fetch(f"{url}/fact")
    allowed = GuardedFetcher(allow=LOOPBACK)
    page = await allowed.fetch(f"{url}/fact")
    assert web_pages.FACT.encode() in page.body
    await fetcher.aclose()
    await allowed.aclose()


@pytest.mark.parametrize("target", ["http://127.0.0.1:9/", "http://10.1.2.3/admin", "http://169.254.169.254/latest/",
                                    "http://[::1]:9/", "http://[::ffff:10.0.0.1]/"])
async def test_a_redirect_into_the_private_network_is_refused(pages, target: str) -> None:  # type: ignore[no-untyped-def]
    url, app = pages
    # the test server itself is allow-listed by name only, so the redirect's address is checked on its own
    fetcher = GuardedFetcher(allow=["pages.test"], resolver=resolver_for({"pages.test": ["127.0.0.1"]}))
    port = url.rsplit(":", 1)[1]
    with pytest.raises(FetchRefused):
        await fetcher.fetch(f"http://pages.test:{port}/redirect?to={target}")
    await fetcher.aclose()


async def test_a_name_that_resolves_to_a_private_address_is_refused() -> None:
    fetcher = GuardedFetcher(resolver=resolver_for({"intranet.example": ["93.184.216.34", "10.0.0.7"]}))
    with pytest.raises(FetchRefused, match="10.0.0.7"):
        await fetcher.fetch("http://intranet.example/")
    await fetcher.aclose()


async def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(pages) -> None:  # type: ignore[no-untyped-def]
    # Only our resolver knows "pinned.test": the page arrives only if the client never resolves it again.
    url, app = pages
    port = url.rsplit(":", 1)[1]
    fetcher = GuardedFetcher(allow=LOOPBACK, resolver=resolver_for({"pinned.test": ["127.0.0.1"]}))
    page = await fetcher.fetch(f"http://pinned.test:{port}/fact")
    assert web_pages.FACT.encode() in page.body
    assert app.state.hosts[-1] == f"pinned.test:{port}"
    await fetcher.aclose()


async def test_redirects_are_followed_up_to_the_limit(pages) -> None:  # type: ignore[no-untyped-def]
    url, _ = pages
    fetcher = GuardedFetcher(allow=LOOPBACK, limits=FetchLimits(max_redirects=3))
    page = await fetcher.fetch(f"{url}/hops/2")
    assert page.url == f"{url}/fact"
    with pytest.raises(FetchError, match="redirects"):
        await fetcher.fetch(f"{url}/hops/5")
    await fetcher.aclose()


async def test_a_huge_page_is_cut_at_the_size_limit(pages) -> None:  # type: ignore[no-untyped-def]
    url, _ = pages
    fetcher = GuardedFetcher(allow=LOOPBACK, limits=FetchLimits(max_bytes=200_000))
    page = await fetcher.fetch(f"{url}/huge")
    assert page.truncated and len(page.body) == 200_000
    assert "very long page" in extract(page).text
    await fetcher.aclose()


async def test_a_slow_page_is_given_up_at_the_time_limit(pages) -> None:  # type: ignore[no-untyped-def]
    url, _ = pages
    fetcher = GuardedFetcher(allow=LOOPBACK, limits=FetchLimits(timeout_seconds=0.5))
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(f"{url}/slow")
    assert caught.value.code == "fetch_timeout"
    await fetcher.aclose()


async def test_types_it_cannot_read_and_other_schemes_are_refused(pages) -> None:  # type: ignore[no-untyped-def]
    url, _ = pages
    fetcher = GuardedFetcher(allow=LOOPBACK)
    with pytest.raises(FetchError, match="image/png"):
        await fetcher.fetch(f"{url}/image.png")
    for bad in ("file:///etc/passwd", "ftp://example.com/x", "gopher://127.0.0.1:6379/_INFO"):
        with pytest.raises(FetchRefused, match="Only http and https"):
            await fetcher.fetch(bad)
    await fetcher.aclose()


async def test_html_boilerplate_is_left_out_and_pdf_text_is_read(pages) -> None:  # type: ignore[no-untyped-def]
    url, _ = pages
    fetcher = GuardedFetcher(allow=LOOPBACK)
    html = extract(await fetcher.fetch(f"{url}/fact"))
    assert web_pages.FACT in html.text
    assert html.title == "Quillton lantern festival"
    for boilerplate in ("Shop the collection", "Cookie settings", "All rights reserved"):
        assert boilerplate not in html.text
    pdf = extract(await fetcher.fetch(f"{url}/doc.pdf"))
    assert web_pages.PDF_FACT in pdf.text
    await fetcher.aclose()


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fc00::1",
                                     "fd00:ec2::254", "::ffff:127.0.0.1", "64:ff9b::a00:1", "240.0.0.1"])
def test_every_kind_of_internal_address_is_blocked(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None
