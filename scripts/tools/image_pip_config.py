"""The machine's pip configuration, gathered for an image build that must not keep it.

pip reads its package-index settings (index URL, CA bundle, find-links, timeouts) from config
files and from `PIP_*` environment variables. A container build sees neither, and copying them
into a layer would ship them. This writes one merged config file (the files pip would read, then
the environment on top, as pip ranks them) and prints the read-only mounts a build needs: the
merged file at `/etc/pip.conf`, and every existing local path a setting names (a CA bundle, a
wheel directory) at its own path. Nothing is printed for settings that name nothing on disk.

Usage: image_pip_config.py OUTPUT_FILE; prints one `source:target:ro` mount per line, or
nothing when the machine has no pip configuration.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

_TARGET = "/etc/pip.conf"
# Variables that configure pip itself rather than name an option.
_NOT_OPTIONS = {"PIP_CONFIG_FILE"}
_INDEX_OPTIONS = {"index-url", "extra-index-url"}


def config_files(environ: Mapping[str, str]) -> list[Path]:
    """The files pip reads, lowest precedence first (PIP_CONFIG_FILE alone replaces none)."""
    named = environ.get("PIP_CONFIG_FILE", "")
    if named == os.devnull:
        return []
    home = Path(environ.get("HOME", "/root"))
    xdg_config = Path(environ.get("XDG_CONFIG_HOME", "") or home / ".config")
    files = [
        Path("/etc/xdg/pip/pip.conf"),
        Path("/etc/pip.conf"),
        home / ".pip" / "pip.conf",
        xdg_config / "pip" / "pip.conf",
    ]
    if named:
        files.append(Path(named))
    return [path for path in files if path.is_file()]


def merged(files: Iterable[Path], environ: Mapping[str, str]) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    for path in files:
        parser.read(path)
    for name, value in sorted(environ.items()):
        if name.startswith("PIP_") and name not in _NOT_OPTIONS:
            if not parser.has_section("global"):
                parser.add_section("global")
            parser.set("global", name[4:].lower().replace("_", "-"), value)
    return parser


def named_paths(parser: configparser.ConfigParser) -> list[Path]:
    """Existing absolute paths the settings name (a value may list several, space-separated)."""
    found: set[Path] = set()
    for section in parser.sections():
        for option, value in parser[section].items():
            for word in value.split():
                location = Path(word.removeprefix("file://"))
                if option in _INDEX_OPTIONS and location.name == "simple":
                    # A local index's pages link to files beside it (`../../files/...`).
                    location = location.parent
                if location.is_absolute() and location.exists():
                    found.add(location)
    return sorted(found)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    parser = merged(config_files(os.environ), os.environ)
    if not parser.sections():
        return 0
    output = Path(argv[1])
    with output.open("w", encoding="utf-8") as handle:
        parser.write(handle)
    output.chmod(0o644)
    print(f"{output}:{_TARGET}:ro")
    for path in named_paths(parser):
        print(f"{path}:{path}:ro")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
