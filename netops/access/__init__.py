"""Device access over SSH (netmiko): a bounded session pool with typed per-device results.

Shared core: it knows nothing of the inventory, topology or exporters. Callers build
:class:`DeviceTarget` objects (from inventory rows, or by hand) and hand the pool a task.
"""

from netops.access.pool import (
    PAGER,
    AccessStatus,
    DeviceResult,
    DeviceSession,
    DeviceTarget,
    LoginStats,
    ParseError,
    ReadOnlyViolation,
    RetryPolicy,
    SessionPool,
    escaped,
    undecodable,
)

__all__ = [
    "PAGER", "AccessStatus", "DeviceResult", "DeviceSession", "DeviceTarget", "LoginStats", "ParseError",
    "ReadOnlyViolation", "RetryPolicy", "SessionPool", "escaped", "undecodable",
]
