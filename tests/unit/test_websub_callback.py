import urllib.error
import urllib.request
from collections.abc import Mapping

import pytest

from connectors.feeds.websub.callback import CallbackServer


def _post(port: int) -> tuple[int, str | None]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/websub/tok", data=b"<rss/>", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.headers.get("Retry-After")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Retry-After")


@pytest.mark.parametrize(("status", "retry_after"), [(503, "5"), (202, None)])
def test_a_push_refused_for_now_tells_the_hub_when_to_retry(status: int, retry_after: str | None) -> None:
    def deliver(_token: str, _headers: Mapping[str, str], _body: bytes) -> int:
        return status  # 503: Kafka did not acknowledge, or the feed leases are moving

    with CallbackServer(("127.0.0.1", 0), lambda _t, _p: (200, b""), deliver) as server:
        assert _post(server.port) == (status, retry_after)
