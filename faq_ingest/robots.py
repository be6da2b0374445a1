"""robots.txt policy for one site, on top of `protego`.

Kept apart from the crawler so the failure rules (RFC 9309 §2.3.1) live in one place:

* 2xx: parse it.
* 4xx (404, 410, 403 ...), or a body that is not text: no rules, crawl everything.
* 429, 5xx, timeouts, refused connections: the site is "unreachable", and RFC 9309 says to assume
  complete disallow. A crawl of such a site yields `skipped_robots` outcomes rather than
  hammering a struggling server; the crawl itself carries on with other sites.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protego import Protego

from faq_ingest.fetch import Fetcher, FetchError

MAX_CRAWL_DELAY_S = 10.0  # a robots.txt asking for more would stall a crawl for hours


@dataclass
class RobotsPolicy:
    parser: Protego | None  # None: no rules (allow all), unless disallow_all
    disallow_all: bool = False
    sitemaps: list[str] = field(default_factory=list)
    error: FetchError | None = None  # why robots.txt could not be read, for the logs

    def can_fetch(self, url: str, user_agent: str) -> bool:
        if self.disallow_all:
            return False
        return self.parser is None or self.parser.can_fetch(url, user_agent)

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return None if delay is None else min(float(delay), MAX_CRAWL_DELAY_S)


ALLOW_ALL = RobotsPolicy(parser=None)


def parse_robots(text: str) -> RobotsPolicy:
    parser = Protego.parse(text)
    return RobotsPolicy(parser=parser, sitemaps=list(parser.sitemaps))


def fetch_robots(origin: str, fetcher: Fetcher) -> RobotsPolicy:
    """Fetch and parse `<origin>/robots.txt`, applying the RFC 9309 failure rules."""
    try:
        result = fetcher.fetch(origin + "/robots.txt")
    except FetchError as err:
        # 429 is "slow down", which RFC 9309 and Google treat like a 5xx.
        client_side = (err.code.startswith("http_4") and err.code != "http_429") or err.code in (
            "bad_content_type",
            "too_large",
            "redirect_loop",
            "too_many_redirects",
        )
        if client_side:
            return RobotsPolicy(parser=None, error=err)
        return RobotsPolicy(parser=None, disallow_all=True, error=err)
    return parse_robots(result.text)
