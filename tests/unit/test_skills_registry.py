"""assistant.skills: schemas from signatures, safe calls, audit log, plugin discovery."""

import asyncio
import json
import textwrap
import time

import pytest

from assistant.skills import (
    SkillContext,
    SkillRegistry,
    build_registry,
    content_words,
    skill,
)
from assistant.skills.declare import parse_docstring

BUILTINS = {"calculate", "cancel_timer", "convert_units", "forget", "get_date", "get_time",
            "list_timers", "recall", "remember", "set_alarm", "set_timer", "stop", "system_status",
            "set_reminder", "list_reminders", "cancel_reminder", "add_to_list",
            "remove_from_list", "read_list", "clear_list", "cancel_alarm"}


# ---------------------------------------------------------------- skills used by the tests

@skill(examples=["water the plants in 5 minutes"])
def water_plants(ctx: SkillContext, seconds: int, plant: str = "fern",
                 loud: bool = False) -> str:
    """Remind the user to water a plant.

    Longer explanation that is still part of the summary.

    Args:
        seconds: Delay before the reminder, in seconds.
        plant: Which plant to water,
            e.g. the fern by the window.
        loud (bool): Whether to shout.
    """
    return f"{plant} in {seconds}s{' !' if loud else ''} ({ctx.data_dir.name})"


@skill
def explode() -> str:
    """Always fails."""
    raise RuntimeError("the flux capacitor broke")


@skill(timeout_s=0.2)
def hang() -> str:
    """Never answers in time."""
    time.sleep(1.5)
    return "too late"


@skill
def junk() -> object:
    """Returns something that is not JSON."""
    return object()


@skill
async def async_add(a: int, b: int) -> int:
    """Add two numbers, asynchronously."""
    await asyncio.sleep(0.01)
    return a + b


DELETED: list[str] = []


@skill(risk="confirm")
def delete_everything(what: str) -> str:
    """Delete things (needs a yes first).

    Args:
        what: What to delete.
    """
    DELETED.append(what)
    return f"deleted {what}"


@skill(name="renamed_skill")
def _original_name() -> str:
    """Has a name given by the decorator."""
    return "hi"


@skill
def no_docstring(x: float):
    return x * 2


@pytest.fixture
def registry(tmp_path) -> SkillRegistry:
    return SkillRegistry(
        [water_plants.__skill__, explode.__skill__, hang.__skill__, junk.__skill__,
         async_add.__skill__, delete_everything.__skill__, _original_name.__skill__,
         no_docstring.__skill__],
        default_timeout_s=2.0, audit_log=tmp_path / "logs" / "audit.jsonl")


@pytest.fixture
def ctx(tmp_path) -> SkillContext:
    return SkillContext(data_dir=tmp_path / "skilldata")


# ---------------------------------------------------------------- schema

def test_schema_from_signature_and_docstring():
    s = water_plants.__skill__
    assert s.name == "water_plants"
    assert s.description == ("Remind the user to water a plant. "
                             "Longer explanation that is still part of the summary.")
    assert s.context_param == "ctx"
    params = s.parameters
    assert params["type"] == "object"
    assert set(params["properties"]) == {"seconds", "plant", "loud"}  # ctx excluded
    assert params["required"] == ["seconds"]
    props = params["properties"]
    assert props["seconds"]["type"] == "integer"
    assert props["seconds"]["description"] == "Delay before the reminder, in seconds."
    assert props["plant"]["description"] == "Which plant to water, e.g. the fern by the window."
    assert props["plant"]["default"] == "fern"
    assert props["loud"] == {"type": "boolean", "default": False,
                             "description": "Whether to shout."}
    assert "title" not in params
    assert all("title" not in p for p in props.values())


def test_tool_schema_and_signature():
    s = delete_everything.__skill__
    assert s.risk == "confirm"
    tool = s.tool_schema()
    assert tool["name"] == "delete_everything"
    assert tool["description"] == "Delete things (needs a yes first)."
    assert tool["parameters"]["required"] == ["what"]
    assert water_plants.__skill__.signature == (
        "water_plants(seconds: integer, plant: string?, loud: boolean?): "
        + water_plants.__skill__.description)


def test_decorator_name_and_missing_docstring():
    assert _original_name.__skill__.name == "renamed_skill"
    s = no_docstring.__skill__
    assert s.description == "no docstring"
    assert s.parameters["properties"]["x"]["type"] == "number"


def testparse_docstring_sections():
    summary, params = parse_docstring(
        """Summary line
        continues here.

        Args:
            a: First.
            b (int): Second,
                over two lines.
        """
    )
    assert summary == "Summary line continues here."
    assert params == {"a": "First.", "b": "Second, over two lines."}


def testparse_docstring_continuation_with_colon():
    _, params = parse_docstring(
        """Start a timer.

        Args:
            seconds: Length of the timer.
                Example: 330 for five and a half minutes.
        """
    )
    assert params == {"seconds": "Length of the timer. Example: 330 for five and a half minutes."}


def test_content_words_and_keywords():
    assert content_words("Set the timers for the pasta") == {"timer", "pasta"}
    assert "plant" in water_plants.__skill__.keywords
    assert "minute" in water_plants.__skill__.keywords  # from the examples


# ---------------------------------------------------------------- calls

def test_valid_call(registry, ctx):
    r = registry.call("water_plants", {"seconds": "30", "plant": "cactus"}, ctx)
    assert r.ok is True
    assert r.result == "cactus in 30s (skilldata)"  # "30" coerced, context passed
    assert r.name == "water_plants"
    assert r.ms >= 0


def test_wrong_argument_type(registry, ctx):
    r = registry.call("water_plants", {"seconds": "abc"}, ctx)
    assert r.ok is False
    assert isinstance(r.result, str)
    assert "seconds" in r.result
    assert len(r.result) < 200


def test_missing_and_extra_arguments(registry, ctx):
    missing = registry.call("water_plants", {}, ctx)
    assert missing.ok is False and "seconds" in missing.result
    extra = registry.call("water_plants", {"seconds": 1, "colour": "red"}, ctx)
    assert extra.ok is False and "colour" in extra.result
    not_a_dict = registry.call("water_plants", ["seconds", 1], ctx)  # type: ignore[arg-type]
    assert not_a_dict.ok is False


def test_unknown_skill(registry, ctx):
    r = registry.call("launch_rocket", {}, ctx)
    assert r.ok is False
    assert "launch_rocket" in r.result


def test_skill_that_raises(registry, ctx):
    r = registry.call("explode", {}, ctx)
    assert r.ok is False
    assert "RuntimeError" in r.result
    assert "flux capacitor" in r.result


def test_skill_that_hangs_times_out_and_registry_keeps_working(registry, ctx):
    start = time.perf_counter()
    r = registry.call("hang", {}, ctx)
    elapsed = time.perf_counter() - start
    assert r.ok is False
    assert "longer than 0.2 seconds" in r.result
    assert elapsed < 1.0  # gave up at about the timeout, did not wait the 1.5 s
    after = registry.call("async_add", {"a": 1, "b": 2}, ctx)
    assert after.ok is True and after.result == 3


def test_registry_default_timeout_applies(ctx):
    @skill
    def sleepy() -> str:
        """Sleeps a bit too long."""
        time.sleep(1.0)
        return "done"

    fast = SkillRegistry([sleepy.__skill__], default_timeout_s=0.1)
    r = fast.call("sleepy", {}, ctx)
    assert r.ok is False and "0.1 seconds" in r.result


def test_junk_result(registry, ctx):
    r = registry.call("junk", {}, ctx)
    assert r.ok is False
    assert "object" in r.result


def test_async_skill(registry, ctx):
    r = registry.call("async_add", {"a": 40, "b": 2}, ctx)
    assert r.ok is True
    assert r.result == 42


def test_confirm_skill_not_run_without_confirmation(registry, ctx):
    DELETED.clear()
    r = registry.call("delete_everything", {"what": "photos"}, ctx)
    assert r.ok is False
    assert DELETED == []
    questions: list[str] = []

    def say_no(question: str) -> bool:
        questions.append(question)
        return False

    r = registry.call("delete_everything", {"what": "photos"}, ctx, confirm=say_no)
    assert r.ok is False
    assert DELETED == []
    assert questions == ["Should I delete everything with what photos?"]
    assert "photos" in questions[0]


def test_confirm_skill_runs_when_confirmed(registry, ctx):
    DELETED.clear()
    r = registry.call("delete_everything", {"what": "spam"}, ctx, confirm=lambda q: True)
    assert r.ok is True
    assert r.result == "deleted spam"
    assert DELETED == ["spam"]


def test_confirm_not_asked_for_invalid_arguments(registry, ctx):
    DELETED.clear()
    asked: list[str] = []
    r = registry.call("delete_everything", {}, ctx, confirm=lambda q: asked.append(q) or True)
    assert r.ok is False
    assert asked == [] and DELETED == []


def test_audit_log(registry, ctx, tmp_path):
    registry.call("async_add", {"a": 1, "b": 1}, ctx)
    registry.call("explode", {}, ctx)
    registry.call("nope", {"x": 1}, ctx)
    lines = (tmp_path / "logs" / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["name"] for r in records] == ["async_add", "explode", "nope"]
    assert records[0]["arguments"] == {"a": 1, "b": 1}
    assert records[0]["result"] == 2 and records[0]["ok"] is True
    assert records[1]["ok"] is False and "flux capacitor" in records[1]["result"]
    assert records[2]["arguments"] == {"x": 1}
    for rec in records:
        assert {"ts", "name", "arguments", "result", "ok", "ms"} <= set(rec)
        assert isinstance(rec["ms"], int | float) and rec["ms"] >= 0


def test_no_audit_log_by_default(ctx, tmp_path):
    reg = SkillRegistry([async_add.__skill__])
    assert reg.call("async_add", {"a": 1, "b": 2}, ctx).ok
    assert list(tmp_path.rglob("*.jsonl")) == []


def test_duplicate_name_keeps_first_and_reports():
    @skill(name="async_add")
    def impostor() -> str:
        """Pretends to add."""
        return "no"

    reg = SkillRegistry([async_add.__skill__, impostor.__skill__])
    assert reg.skills["async_add"].func is async_add
    assert len(reg.errors) == 1 and "async_add" in reg.errors[0]
    reg.add(async_add.__skill__)  # the same skill again is not an error
    assert len(reg.errors) == 1


def test_remove_and_tool_schemas(registry):
    registry.remove(["junk", "not-there"])
    assert "junk" not in registry.skills
    names = [t["name"] for t in registry.tool_schemas(["explode", "async_add"])]
    assert names == ["explode", "async_add"]
    assert len(registry.tool_schemas()) == len(registry.skills)


# ---------------------------------------------------------------- loading

def test_load_dir_good_and_broken(tmp_path, clean_modules):
    folder = tmp_path / "myskills"
    folder.mkdir()
    (folder / "greet.py").write_text(textwrap.dedent('''
        from assistant.skills import skill

        @skill
        def greet(name: str) -> str:
            """Say hello.

            Args:
                name: Who to greet.
            """
            return "hello " + name
    '''), encoding="utf-8")
    (folder / "broken.py").write_text("def oops(:\n    pass\n", encoding="utf-8")
    (folder / "notes.txt").write_text("not python", encoding="utf-8")
    reg = SkillRegistry()
    reg.load_dir(folder)
    assert set(reg.skills) == {"greet"}
    assert len(reg.errors) == 1
    assert "broken.py" in reg.errors[0] and "SyntaxError" in reg.errors[0]
    r = reg.call("greet", {"name": "Ada"}, SkillContext(data_dir=tmp_path))
    assert r.ok and r.result == "hello Ada"


def test_load_dir_missing_folder(tmp_path):
    reg = SkillRegistry()
    reg.load_dir(tmp_path / "absent")
    assert reg.skills == {}
    assert len(reg.errors) == 1 and "absent" in reg.errors[0]


def test_builtins_through_entry_point():
    reg = SkillRegistry()
    reg.load_entry_points()
    assert set(reg.skills) == BUILTINS
    assert reg.errors == []
    reg.load_entry_points()  # loading twice is harmless
    assert reg.errors == []


def make_distribution(root, dist: str, group_lines: str, modules: dict[str, str]) -> None:
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        f"[assistant.skills]\n{group_lines}\n", encoding="utf-8")
    for relpath, source in modules.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")


PLUGIN_SOURCE = '''
    from assistant.skills import SkillContext, skill

    @skill(patterns=[r"^flip a coin$"])
    def flip_coin(ctx: SkillContext) -> str:
        """Flip a coin."""
        return "heads"
'''


def test_entry_point_plugin_is_discovered(tmp_path, monkeypatch, clean_modules):
    site = tmp_path / "site"
    site.mkdir()
    make_distribution(site, "fakeplugin", "coins = fakeplugin_skills",
                      {"fakeplugin_skills/__init__.py": PLUGIN_SOURCE})
    monkeypatch.syspath_prepend(str(site))
    reg = SkillRegistry()
    reg.load_entry_points()
    assert reg.errors == []
    assert set(reg.skills) == BUILTINS | {"flip_coin"}
    assert reg.skills["flip_coin"].source == "fakeplugin_skills"
    r = reg.call("flip_coin", {}, SkillContext(data_dir=tmp_path))
    assert r.ok and r.result == "heads"


def test_entry_point_plugin_that_fails_to_import(tmp_path, monkeypatch, clean_modules):
    site = tmp_path / "site"
    site.mkdir()
    make_distribution(site, "fakeplugin", "coins = fakeplugin_skills",
                      {"fakeplugin_skills/__init__.py": PLUGIN_SOURCE})
    make_distribution(site, "brokenplugin", "broken = brokenplugin_skills",
                      {"brokenplugin_skills/__init__.py":
                       'raise ImportError("needs the missing package frobnicate")\n'})
    monkeypatch.syspath_prepend(str(site))
    reg = SkillRegistry()
    reg.load_entry_points()
    assert BUILTINS | {"flip_coin"} <= set(reg.skills)
    assert len(reg.errors) == 1
    assert "broken" in reg.errors[0]
    assert "ImportError" in reg.errors[0] and "frobnicate" in reg.errors[0]


def test_build_registry_loads_dirs_and_removes_disabled(tmp_path, clean_modules):
    from assistant.config import SkillsConfig

    folder = tmp_path / "extra"
    folder.mkdir()
    (folder / "hello.py").write_text(textwrap.dedent('''
        from assistant.skills import skill

        @skill
        def say_hello() -> str:
            """Say hello."""
            return "hello"
    '''), encoding="utf-8")
    cfg = SkillsConfig(dirs=[str(folder)], disabled=["stop", "system_status"], timeout_s=1.5)
    reg = build_registry(cfg, tmp_path / "data")
    assert set(reg.skills) == (BUILTINS - {"stop", "system_status"}) | {"say_hello"}
    assert reg.default_timeout_s == 1.5
    assert reg.audit_log == tmp_path / "data" / "audit.jsonl"


# ---------------------------------------------------------------- relevance

def test_relevant(builtin_registry):
    assert builtin_registry.relevant("tell me a joke") == []
    assert "set_timer" in builtin_registry.relevant("set a timer")
    assert builtin_registry.relevant("convert miles to kilometres")[0] == "convert_units"
    assert len(builtin_registry.relevant("timer timers alarm time date memory", k=2)) <= 2
    assert "calculate" in builtin_registry.relevant("what's six multiplied by seven")
    assert "convert_units" in builtin_registry.relevant("how many feet in a mile")
    assert "set_timer" in builtin_registry.relevant("could you set a timer for an hour")
    assert "set_alarm" in builtin_registry.relevant("wake me up at six thirty")
    # everyday words of the skills' docstrings do not offer tools for a question about notes
    assert builtin_registry.relevant(
        "When did the timing belt on the car last get swapped out?") == []
    assert builtin_registry.relevant(
        "How much tread was left on the back tyres of the car at the last check?") == []


def test_spoken_names_split_an_mcp_tools_camel_case() -> None:
    from assistant.skills import spoken_name

    assert spoken_name("set_timer") == "set timer"
    assert spoken_name("home_HassTurnOn") == "home hass turn on"
    assert spoken_name("fx_getURL") == "fx get url"
