"""scripts/requirements.lock agrees with pyproject.toml: what setup installs is what CI tests.

The lock pins every package (with hashes) for every platform; scripts/lock.sh rewrites it.
This fails when a dependency was added or its range changed without re-locking.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "scripts" / "requirements.lock"
BUILT_HERE = {"llama-cpp-python"}
"""Built from source by scripts/setup.sh at its own pinned version, so not in the lock."""


def pins() -> dict[str, list[tuple[str, Marker | None, int]]]:
    """name → [(version, marker, number of hashes)] of every entry of the lock."""
    found: dict[str, list[tuple[str, Marker | None, int]]] = {}
    for entry in re.split(r"\n(?=\S)", LOCK.read_text()):
        m = re.match(r"([A-Za-z0-9._-]+)==([^\s;\\]+)\s*(?:;\s*([^\\\n]+))?", entry)
        if m:
            marker = Marker(m.group(3).strip()) if m.group(3) else None
            found.setdefault(canonicalize_name(m.group(1)), []).append(
                (m.group(2), marker, entry.count("--hash=sha256:")))
    return found


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in
            [*project["dependencies"], *project["optional-dependencies"]["dev"]]]


def test_every_dependency_is_pinned_within_its_range() -> None:
    locked = pins()
    problems = []
    for req in declared():
        name = canonicalize_name(req.name)
        if name in BUILT_HERE or (req.marker and not req.marker.evaluate()):
            continue
        here = [v for v, marker, _ in locked.get(name, []) if marker is None or
                marker.evaluate()]
        if not here:
            problems.append(f"{req} is not in the lock")
        elif not all(req.specifier.contains(v, prereleases=True) for v in here):
            problems.append(f"{req} is locked at {', '.join(here)}")
    assert not problems, "run scripts/lock.sh: " + "; ".join(problems)


def test_every_pin_has_hashes_and_nothing_is_built_here() -> None:
    locked = pins()
    assert len(locked) > 50
    assert all(n for entries in locked.values() for _, _, n in entries)
    assert not BUILT_HERE & set(locked)


def test_setup_installs_the_lock_with_hashes() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "--require-hashes --no-deps -r scripts/requirements.lock" in setup
    assert "requirements.lock" in setup.split("deps_id=")[1].splitlines()[0]
