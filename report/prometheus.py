"""The few numbers the report asks Prometheus for (HTTP API, instant queries)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from netops.errors import NetopsError


class PrometheusError(NetopsError):
    exit_code = 3  # a service failed; the report is still written without these numbers


def instant_query(base_url: str, expr: str, timeout_s: float = 30.0) -> list[dict]:
    """Result vector of an instant query: ``[{"metric": {...}, "value": [ts, "1.0"]}, ...]``."""
    url = base_url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            body = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise PrometheusError(f"Prometheus at {base_url}: query {expr!r} failed: {exc}") from exc
    if body.get("status") != "success":
        raise PrometheusError(f"Prometheus at {base_url}: query {expr!r}: {body.get('error', body)}")
    return body["data"]["result"]


def scalar_query(base_url: str, expr: str) -> float | None:
    """The single value of an aggregating query, or None when there is no data."""
    result = instant_query(base_url, expr)
    if not result:
        return None
    return float(result[0]["value"][1])
