"""Reading the scrubbing corpora (see corpus/README.md): a secret is written ``{{value}}``;
and the real configs netops did not write (fakenos' device outputs, the Batfish IOS config)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from configs.platforms import PLATFORMS
from configs.scrub import Fingerprinter

DIR = Path(__file__).parent / "corpus"
FAKENOS = Path(yaml.__file__).parents[1] / "fakenos" / "plugins" / "nos" / "platforms_yaml"
CONFIG_COMMAND = re.compile(r"(?:show running|show run|display current|show conf|export|show config)")
BATFISH = Path(__file__).parent / "foreign" / "batfish-ios-as2dist2.cfg"
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


def real_configs() -> dict[str, str]:
    """Configs netops did not write, by "source: command" (`cisco_asa: show running-config
    tunnel-group`; the source's platform before the colon): every config command's answer of
    fakenos' platforms, and the Batfish IOS config."""
    configs = {"batfish: as2dist2": BATFISH.read_text()}
    for path in sorted(FAKENOS.glob("*.yaml")):
        for command, answer in (yaml.safe_load(path.read_text()).get("commands") or {}).items():
            if CONFIG_COMMAND.match(command) and isinstance(answer, dict) and isinstance(answer.get("output"), str):
                configs[f"{path.stem}: {command}"] = answer["output"]
    return configs
