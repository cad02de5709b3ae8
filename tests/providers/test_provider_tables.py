"""A provider is its folder plus its line in the registry: no shared module names a provider.

Every table keyed by provider id (default base URLs, version paths, egress hosts, capabilities,
speech) is built from the folders' declarations, so a string literal equal to a provider id
anywhere outside `providers/<folder>/` is a table or a special case the folder should declare.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from integration_api.credentials.model import ACCOUNT_SECRET_CLASSES
from integration_api.providers.registry import FOLDERS, PROVIDER_HOSTS, PROVIDERS

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "integration_api"
PROVIDER_PACKAGE = PACKAGE / "providers"
FOLDER_NAMES = sorted(
    path.name for path in PROVIDER_PACKAGE.iterdir() if (path / "__init__.py").exists()
)
DECLARED_IDS = frozenset(PROVIDERS) | frozenset(PROVIDER_HOSTS)
# The contract names each telephony account secret after its provider (`CredentialSecret.twilio`),
# and the secret classes carry that name as their `kind`: a secret's shape, not a provider table.
SECRET_KINDS = ("credentials/model.py", {account.kind for account in ACCOUNT_SECRET_CLASSES})


def _inside_a_provider_folder(path: Path) -> bool:
    parts = path.relative_to(PACKAGE).parts
    return len(parts) > 2 and parts[0] == "providers" and parts[1] in FOLDER_NAMES


def _provider_ids_named(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    relative = str(path.relative_to(PACKAGE))
    allowed = SECRET_KINDS[1] if relative == SECRET_KINDS[0] else set()
    return [
        f"{relative}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and node.value in DECLARED_IDS
        and node.value not in allowed
    ]


def test_no_module_outside_a_provider_folder_names_a_provider_id() -> None:
    shared = [path for path in sorted(PACKAGE.rglob("*.py")) if not _inside_a_provider_folder(path)]
    named = [found for path in shared for found in _provider_ids_named(path)]
    assert named == []


def test_the_scan_sees_the_ids_where_they_are_declared() -> None:
    # Guards the test above against scanning nothing: the folders themselves name every id.
    folder_files = [path for path in PACKAGE.rglob("*.py") if _inside_a_provider_folder(path)]
    named = {
        found.rsplit(": ", 1)[1] for path in folder_files for found in _provider_ids_named(path)
    }
    assert named == {repr(provider_id) for provider_id in DECLARED_IDS}


def test_every_provider_folder_is_listed_in_the_registry_once() -> None:
    declared = [
        importlib.import_module(f"integration_api.providers.{name}.provider").FOLDER
        for name in FOLDER_NAMES
    ]
    assert sorted(map(id, declared)) == sorted(map(id, FOLDERS))


def test_no_two_declarations_share_an_id() -> None:
    providers = [spec.id for folder in FOLDERS for spec in folder.providers]
    hosts_only = [own.id for folder in FOLDERS for own in folder.hosts_only]
    ids = providers + hosts_only
    assert len(ids) == len(set(ids)) == len(DECLARED_IDS)
