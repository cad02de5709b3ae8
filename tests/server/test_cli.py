"""What a new operator reads first: `--help` of every command, and the settings it documents."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from integration_api.cli import build_parser, main
from integration_api.config import Settings, load_settings
from integration_api.server.bootstrap import with_development_defaults
from integration_api.settings_reference import VARIABLES

README = Path(__file__).resolve().parents[2] / "README.md"


class _RecordingEnvironment(dict[str, str]):
    """An empty environment that remembers every variable asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return default


def _readme_configuration_variables() -> set[str]:
    text = README.read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for cell in first_cells for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cell)}


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield child
                yield from _subcommands(child)


def test_documented_variables_are_exactly_the_ones_the_service_reads() -> None:
    environment = _RecordingEnvironment()
    load_settings(environment)
    documented = {variable.name for variable in VARIABLES}
    assert documented == environment.asked
    assert _readme_configuration_variables() == documented


def test_serve_help_lists_every_environment_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    missing = [variable.name for variable in VARIABLES if f"  {variable.name} " not in shown]
    assert missing == []


def test_every_option_of_every_command_says_what_it_does_and_its_default() -> None:
    for command in _subcommands(build_parser()):
        shown = command.format_help()
        for action in command._actions:
            if not action.option_strings or action.dest == "help":
                continue
            assert action.help, f"{command.prog} {action.option_strings[0]} has no description"
            if action.required:
                assert "(required)" in shown
            elif action.default not in (None, ""):
                assert f"(default: {action.default})" in " ".join(shown.split())


def test_development_defaults_are_reported_only_when_created(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first, created = with_development_defaults(settings)
    assert sorted(Path(path).name for path in created) == ["crypto-key", "service-secret"]
    again, created_again = with_development_defaults(settings)
    assert created_again == []
    assert (again.secret, again.crypto_key) == (first.secret, first.crypto_key)
