"""`make run` installs only what running needs; `make test` adds the rest; neither installs twice.

Each case runs `make -n` (print, do not run) on a copy of the Makefile, with the virtualenv's state
given by the modification times of pyproject.toml and the install stamps.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCAL_INSTALL = "-e '.[local]'"
DEV_INSTALL = "-e '.[dev]'"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    os.utime(tmp_path / "pyproject.toml", (1_000, 1_000))
    return tmp_path


def installed(project: Path, *stamps: str) -> None:
    """A virtualenv whose named installs ran after pyproject.toml last changed."""
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "python").touch()
    for stamp in stamps:
        (project / ".venv" / stamp).touch()
        os.utime(project / ".venv" / stamp, (2_000, 2_000))


def planned(project: Path, target: str) -> str:
    """The commands `make <target>` would run."""
    done = subprocess.run(
        ["make", "-n", target],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
        # not the MAKEFLAGS of a `make test` that runs this very test
        env={name: value for name, value in os.environ.items() if "MAKE" not in name and name != "MFLAGS"},
    )
    return done.stdout


def test_run_on_a_fresh_machine_creates_the_venv_and_installs_only_the_local_stack(project):
    # When `make run` runs on a fresh clone
    commands = planned(project, "run")

    # Then it creates the venv and installs .[local], not the developer tools
    assert "-m venv .venv" in commands
    assert LOCAL_INSTALL in commands and DEV_INSTALL not in commands
    assert commands.rstrip().endswith(".venv/bin/python -m infra.local")


def test_test_after_run_installs_the_difference_into_the_same_venv(project):
    # Given `make run` installed the local stack
    installed(project, ".installed-local")

    # When the developer tools are asked for
    commands = planned(project, "lint")

    # Then .[dev] is installed into the existing venv (pip adds only what is missing)
    assert DEV_INSTALL in commands
    assert "-m venv" not in commands and LOCAL_INSTALL not in commands


@pytest.mark.parametrize("target", ["run", "lint", "unit"])
def test_after_test_installed_everything_nothing_installs_again(project, target):
    # Given `make test` installed .[dev] (which includes .[local])
    installed(project, ".installed-dev", ".installed-local")

    # When any target runs
    commands = planned(project, target)

    # Then nothing is installed
    assert "pip install" not in commands and "-m venv" not in commands


def test_a_changed_pyproject_installs_again(project):
    # Given a venv installed before pyproject.toml changed
    installed(project, ".installed-dev", ".installed-local")
    os.utime(project / "pyproject.toml", (3_000, 3_000))

    # When `make run` runs
    commands = planned(project, "run")

    # Then the local stack is installed again, into the same venv
    assert LOCAL_INSTALL in commands and "-m venv" not in commands


def test_the_dev_extra_includes_the_local_one():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert "subcast[local]" in extras["dev"]
    assert not {canonicalize_name(Requirement(r).name) for r in extras["local"]} & {
        canonicalize_name(Requirement(r).name) for r in extras["dev"] if not r.startswith("subcast")
    }


def installs(requirements: list[str]) -> set[str]:
    """Every distribution these requirements bring, read from the installed packages' metadata."""
    extras = PYPROJECT["project"]["optional-dependencies"]
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = [Requirement(raw) for raw in requirements]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if (name, frozenset(requirement.extras)) in seen:
            continue
        seen.add((name, frozenset(requirement.extras)))
        if name == "subcast":  # the project naming one of its own extras
            pending.extend(Requirement(raw) for extra in requirement.extras for raw in extras[extra])
            continue
        try:
            needs = importlib.metadata.requires(requirement.name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for raw in needs:
            need = Requirement(raw)
            wanted = requirement.extras or {""}
            if need.marker is None or any(need.marker.evaluate({"extra": extra}) for extra in wanted):
                pending.append(need)
    return {name for name, _ in seen}


def imported_packages(paths: list[Path]) -> dict[str, Path]:
    """Top-level third-party modules imported by these files (one file that imports each)."""
    first_party = {"subcast", "infra", "subcast_cli"}
    found: dict[str, Path] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for top in {name.split(".")[0] for name in names}:
                if top not in sys.stdlib_module_names and top not in first_party:
                    found.setdefault(top, path)
    return found


def test_the_local_extra_brings_everything_make_run_and_the_operator_targets_import():
    # Given what `python -m infra.local`, the handlers, the CLI and the operator scripts import
    # (infra/template_check.py runs under `make test` only)
    paths = [
        *(path for path in (ROOT / "infra").rglob("*.py") if path.name != "template_check.py"),
        *(ROOT / "shared" / "subcast").rglob("*.py"),
        *(ROOT / "functions").rglob("*.py"),
        *(ROOT / "subcast_cli").rglob("*.py"),
    ]
    imported = imported_packages(paths)
    assert {"moto", "samtranslator", "cfnlint", "boto3"} <= set(imported)

    # When the runtime dependencies and the local extra are installed
    brought = installs([*PYPROJECT["project"]["dependencies"], "subcast[local]"])

    # Then every one of those imports is installed by them
    owners = importlib.metadata.packages_distributions()
    missing = {
        module: str(path.relative_to(ROOT))
        for module, path in imported.items()
        if not {canonicalize_name(owner) for owner in owners.get(module, [])} & brought
    }
    assert missing == {}


def test_license_is_an_spdx_expression_the_build_backend_understands():
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    (setuptools,) = (Requirement(raw) for raw in PYPROJECT["build-system"]["requires"])
    assert setuptools.name == "setuptools" and not setuptools.specifier.contains("76.9")
