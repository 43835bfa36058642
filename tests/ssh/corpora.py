"""Reading the scrubbing corpora (see corpus/README.md): a secret is written ``{{value}}``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from configs.platforms import PLATFORMS
from configs.scrub import Fingerprinter

DIR = Path(__file__).parent / "corpus"
SECRET = re.compile(r"\{\{(.+?)\}\}")


@dataclass(frozen=True)
class Corpus:
    name: str  # secrets-cisco_ios, lookalike-juniper_junos...
    lines: list[str]  # annotated, without the corpus' comments

    @property
    def raw(self) -> str:
        """The configuration as a device prints it."""
        return "\n".join(SECRET.sub(lambda m: m.group(1), line) for line in self.lines) + "\n"

    def expected(self, fingerprint: Fingerprinter) -> str:
        """The configuration as netops must store it."""
        return "\n".join(SECRET.sub(lambda m: fingerprint.marker(m.group(1)), line).rstrip()
                         for line in self.lines) + "\n"

    @property
    def platform(self) -> str:
        """The device type that serves this corpus (test_corpus_leaks.py): its own where netops
        backs the platform up, else an IOS device (the text pasted onto one)."""
        platform = self.name.split("-", 1)[-1]
        return platform if platform in PLATFORMS else "cisco_ios"

    @property
    def secrets(self) -> list[str]:
        return [m.group(1) for line in self.lines for m in SECRET.finditer(line)]

    @property
    def secret_lines(self) -> int:
        return sum(1 for line in self.lines if SECRET.search(line))


def load(kind: str) -> list[Corpus]:
    """Every corpus of one kind (``secrets`` or ``lookalike``), one per platform."""
    return [Corpus(path.stem, [line for line in path.read_text().splitlines() if not line.startswith("%%")])
            for path in sorted(DIR.glob(f"{kind}-*.txt"))]
