"""How long the city report takes, and whether the browser still draws it, at several scales.

    .venv/bin/python benchmarks/report_bench.py --scales 1 5 10

For each scale: seed a fresh SQLite file, then time building the report (inventory
queries + topology audits + KPIs), rendering the HTML, and headless Chromium loading the
file until the map is drawn. Prints sites, trench segments, HTML size and the three
times. There is no peer tool to compare with.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inventory.seed import generate, seed  # noqa: E402
from netops import db  # noqa: E402
from netops.db import session_scope  # noqa: E402
from report import build_report, render_html  # noqa: E402
from tests.support.chromium import Browser, chromium_binary  # noqa: E402


def one(scale: int, workdir: Path) -> dict:
    engine = db.make_engine(f"sqlite:///{workdir / f'netops-{scale}.db'}")
    db.upgrade(engine)
    with session_scope(engine) as session:
        seed(session, generate(scale))
    started = time.perf_counter()
    with session_scope(engine) as session:
        report = build_report(session)
    built = time.perf_counter()
    html = render_html(report)
    rendered = time.perf_counter()
    out = workdir / f"report-{scale}.html"
    out.write_text(html, encoding="utf-8")
    browser_s = None
    if chromium_binary():
        with Browser(workdir / f"profile-{scale}") as browser:
            start = time.perf_counter()
            browser.open(out.as_uri(), "document.body.dataset.status === 'ready'", timeout=600)
            browser_s = time.perf_counter() - start
            drawn = int(browser.evaluate("document.body.dataset.sitesDrawn"))
            assert drawn == len(report.sites), (drawn, len(report.sites))
    return {
        "scale": scale, "sites": len(report.sites), "trenches": len(report.trenches),
        "findings": len(report.findings), "html_mb": len(html.encode()) / 2**20,
        "build_s": built - started, "render_s": rendered - built, "browser_s": browser_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 5, 10])
    args = parser.parse_args()
    print(f"{'scale':>5} {'sites':>6} {'trenches':>8} {'findings':>8} {'HTML MiB':>8} "
          f"{'build s':>8} {'render s':>8} {'browser s':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for scale in args.scales:
            r = one(scale, Path(tmp))
            browser = f"{r['browser_s']:9.2f}" if r["browser_s"] is not None else "      n/a"
            print(f"{r['scale']:>5} {r['sites']:>6} {r['trenches']:>8} {r['findings']:>8} {r['html_mb']:>8.1f} "
                  f"{r['build_s']:>8.2f} {r['render_s']:>8.2f} {browser}", flush=True)


if __name__ == "__main__":
    main()
