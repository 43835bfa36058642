"""The few numbers the report asks Prometheus for (HTTP API, instant queries)."""

from __future__ import annotations

import http.client
import json
import math
import urllib.error
import urllib.parse
import urllib.request

from netops.errors import NetopsError


class PrometheusError(NetopsError):
    exit_code = 3  # a service failed; the report is still written without these numbers


def shown(base_url: str) -> str:
    """``base_url`` as a message (and so the report's note and JSON) shows it: scheme://host:port,
    and ``/…`` for a path, where a reverse proxy's token may stand (``http://prom:9090/TOKEN/``)."""
    parts = urllib.parse.urlsplit(base_url)
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname or ""
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}" + ("/…" if parts.path.strip("/") else "")


def instant_query(base_url: str, expr: str, timeout_s: float = 30.0) -> list[dict]:
    """Result vector of an instant query: ``[{"metric": {...}, "value": [ts, "1.0"]}, ...]``."""
    url = base_url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            body = json.load(response)
    except http.client.InvalidURL:  # (its message repeats the path)
        raise PrometheusError(f"Prometheus at {shown(base_url)}: query {expr!r} failed: the URL holds "
                              "characters HTTP cannot send") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:  # HTTPException: no
        # HTTP at all (a wrong port answering SSH) or a body cut short
        raise PrometheusError(f"Prometheus at {shown(base_url)}: query {expr!r} failed: {exc}") from exc
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error", body) if isinstance(body, dict) else body
        raise PrometheusError(f"Prometheus at {shown(base_url)}: query {expr!r}: {str(error)[:200]}")
    data = body.get("data")
    # a service that answers JSON but is no Prometheus (a wrong port, a proxy) is a failed
    # service like an unreachable one, not a traceback
    if not isinstance(data, dict) or data.get("resultType") != "vector" or not isinstance(data.get("result"), list):
        raise PrometheusError(f"Prometheus at {shown(base_url)}: query {expr!r}: the answer is no instant vector "
                              f"(is this a Prometheus?)")
    return data["result"]


def scalar_query(base_url: str, expr: str) -> float | None:
    """The single value of an aggregating query, or None when there is no data (no sample, or
    NaN/Inf, which a ratio over no samples gives: never a "nan %" or a count of infinity)."""
    result = instant_query(base_url, expr)
    if not result:
        return None
    try:
        value = float(result[0]["value"][1])
    except (TypeError, KeyError, IndexError, ValueError):
        raise PrometheusError(f"Prometheus at {shown(base_url)}: query {expr!r}: a sample that is no "
                              f"[time, value] pair: {str(result[0])[:200]}") from None
    return value if math.isfinite(value) else None
