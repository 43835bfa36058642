"""Scrub time per pass: every scrubbing corpus (tests/ssh/corpus, secrets and look-alikes), the
real configs of fakenos' platforms and the Batfish IOS config, each scrubbed once per pass with
its corpus' platform; the best and the median of ``--passes`` passes (CPU time of this process).

    .venv/bin/python benchmarks/scrub_bench.py --passes 20
    .venv/bin/python benchmarks/scrub_bench.py --passes 20 --scrubber /work/main   # another tree's scrubber

``--scrubber`` times another checkout's ``configs/scrub.py`` on the same input (a peer: the
scrubber before a change). A scrubber without the ``platform`` argument is called without it.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ssh import corpora  # noqa: E402


def _scrubber(tree: Path):
    spec = importlib.util.spec_from_file_location("bench_scrub", tree / "configs" / "scrub.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--scrubber", type=Path, default=ROOT, help="checkout whose configs/scrub.py is timed")
    args = parser.parse_args()
    scrub = _scrubber(args.scrubber)
    takes_platform = "platform" in inspect.signature(scrub.scrub_config).parameters
    texts = [(c.raw, c.platform) for c in corpora.load("secrets") + corpora.load("lookalike")]
    texts += [(raw, name.split(":")[0]) for name, raw in corpora.real_configs().items()]
    lines = sum(len(raw.splitlines()) for raw, _ in texts)
    fingerprint = scrub.Fingerprinter.ephemeral()
    times = []
    for _ in range(args.passes):
        start = time.process_time()
        for raw, platform in texts:
            if takes_platform:
                scrub.scrub_config(raw, fingerprint=fingerprint, platform=platform)
            else:
                scrub.scrub_config(raw, fingerprint=fingerprint)
        times.append(time.process_time() - start)
    best, median = min(times), statistics.median(times)
    print(f"scrubber {args.scrubber}: {len(texts)} texts, {lines} lines; per pass best {best * 1000:.0f} ms, "
          f"median {median * 1000:.0f} ms ({lines / median:,.0f} lines/s CPU)")


if __name__ == "__main__":
    main()
