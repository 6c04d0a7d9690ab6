"""assistant.config: defaults < file < environment < command line, and one-line errors."""

import pytest

from assistant.config import Config, ConfigError, describe, load_config
from assistant.config import load as config_load


@pytest.fixture
def no_default_file(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere" / "config.toml"
    monkeypatch.setattr(config_load, "default_config_path", lambda: missing)
    return missing


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_with_no_file_and_empty_env(no_default_file):
    loaded = load_config(env={})
    cfg = loaded.config
    assert cfg.llm.model == "smollm2-135m-instruct"
    assert cfg.llm.n_ctx == 2048
    assert cfg.llm.n_threads is None
    assert cfg.skills.timeout_s == 5.0
    assert cfg.skills.llm_fallback is True
    assert cfg.asr.model == "whisper-tiny.en"
    assert loaded.sources == {}
    assert loaded.path == no_default_file


def test_file_values_override_defaults_and_are_sourced(tmp_path, no_default_file):
    path = write(tmp_path, '[llm]\nn_ctx = 4096\nmodel = "qwen2.5-1.5b-instruct"\n'
                           '[skills]\ndisabled = ["stop"]\n')
    loaded = load_config(path=path, env={})
    assert loaded.config.llm.n_ctx == 4096
    assert loaded.config.llm.model == "qwen2.5-1.5b-instruct"
    assert loaded.config.skills.disabled == ["stop"]
    assert loaded.config.llm.max_tokens == 200  # untouched keys keep their default
    assert loaded.sources["llm.n_ctx"] == str(path)
    assert loaded.sources["skills.disabled"] == str(path)
    assert "llm.max_tokens" not in loaded.sources
    assert loaded.path == path


def test_assistant_config_env_names_the_file(tmp_path, no_default_file):
    path = write(tmp_path, "[llm]\nseed = 7\n")
    loaded = load_config(env={"ASSISTANT_CONFIG": str(path)})
    assert loaded.config.llm.seed == 7
    assert loaded.path == path


def test_env_override_is_parsed_and_wins_over_file(tmp_path, no_default_file):
    path = write(tmp_path, "[llm]\nn_threads = 2\n")
    loaded = load_config(path=path, env={"ASSISTANT_LLM__N_THREADS": "4"})
    assert loaded.config.llm.n_threads == 4
    assert isinstance(loaded.config.llm.n_threads, int)
    assert loaded.sources["llm.n_threads"] == "env ASSISTANT_LLM__N_THREADS"


def test_env_plain_string_and_list_values(no_default_file):
    loaded = load_config(env={"ASSISTANT_PATHS__DATA_DIR": "/tmp/somewhere",
                              "ASSISTANT_SKILLS__DIRS": '["a", "b"]',
                              "ASSISTANT_SKILLS__LLM_FALLBACK": "false"})
    assert loaded.config.paths.data_dir == "/tmp/somewhere"
    assert loaded.config.skills.dirs == ["a", "b"]
    assert loaded.config.skills.llm_fallback is False


def test_command_line_overrides_win_over_env(tmp_path, no_default_file):
    loaded = load_config(env={"ASSISTANT_LLM__N_CTX": "1024"}, overrides={"llm.n_ctx": 8192})
    assert loaded.config.llm.n_ctx == 8192
    assert loaded.sources["llm.n_ctx"] == "command line"


def test_unknown_key_in_file_is_named(tmp_path, no_default_file):
    path = write(tmp_path, "[llm]\nnthreads = 4\n")
    with pytest.raises(ConfigError) as err:
        load_config(path=path, env={})
    assert "llm.nthreads" in str(err.value)
    assert str(path) in str(err.value)


def test_bad_value_type_is_named(tmp_path, no_default_file):
    path = write(tmp_path, '[llm]\nn_ctx = "big"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path=path, env={})
    assert "llm.n_ctx" in str(err.value)


def test_out_of_range_value_is_rejected(tmp_path, no_default_file):
    with pytest.raises(ConfigError, match=r"llm\.temperature"):
        load_config(env={"ASSISTANT_LLM__TEMPERATURE": "9"})


def test_bad_env_value_names_key_and_variable(no_default_file):
    with pytest.raises(ConfigError) as err:
        load_config(env={"ASSISTANT_LLM__N_CTX": "lots"})
    assert "llm.n_ctx" in str(err.value)
    assert "ASSISTANT_LLM__N_CTX" in str(err.value)


def test_invalid_toml(tmp_path, no_default_file):
    path = write(tmp_path, "[llm\nn_ctx = = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path=path, env={})


def test_unknown_section(tmp_path, no_default_file):
    path = write(tmp_path, "[speech]\nrate = 1.2\n")
    with pytest.raises(ConfigError, match="speech"):
        load_config(path=path, env={})


def test_top_level_scalar_is_rejected(tmp_path, no_default_file):
    path = write(tmp_path, "n_ctx = 4096\n")
    with pytest.raises(ConfigError, match="n_ctx"):
        load_config(path=path, env={})


def test_a_folder_as_the_config_file(tmp_path, no_default_file):
    with pytest.raises(ConfigError, match="is a folder; give the path of a TOML file"):
        load_config(path=tmp_path, env={})
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(env={"ASSISTANT_CONFIG": str(tmp_path)})


def test_explicit_missing_config_path(tmp_path, no_default_file):
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError, match="not found"):
        load_config(path=missing, env={})
    with pytest.raises(ConfigError, match="not found"):
        load_config(env={"ASSISTANT_CONFIG": str(missing)})


def test_badly_formed_env_name(no_default_file):
    with pytest.raises(ConfigError) as err:
        load_config(env={"ASSISTANT_FOO": "1"})
    assert "ASSISTANT_FOO" in str(err.value)


def test_unrelated_env_vars_are_ignored(no_default_file):
    loaded = load_config(env={"HOME": "/nowhere", "LLM__N_CTX": "1", "PATH": "/bin"})
    assert loaded.config == Config()


def test_describe_lists_every_key_with_source_and_description(tmp_path, no_default_file):
    path = write(tmp_path, "[llm]\nn_ctx = 4096\n")
    loaded = load_config(path=path, env={"ASSISTANT_LLM__SEED": "3"})
    rows = describe(loaded)

    def keys(model: type, prefix: str) -> set[str]:
        out = set()
        for key, field in model.model_fields.items():
            if hasattr(field.annotation, "model_fields"):
                out |= keys(field.annotation, f"{prefix}{key}.")
            else:
                out.add(prefix + key)
        return out

    expected = keys(Config, "")
    assert {row[0] for row in rows} == expected
    assert "voice.vad.min_rms" in expected and "voice.tuning.speculate_after_s" in expected
    assert len(rows) == len(expected) >= 15
    for key, _value, _source, description in rows:
        assert description.strip(), f"{key} has no description"
    by_key = {row[0]: row for row in rows}
    assert by_key["llm.n_ctx"][1:3] == (4096, str(path))
    assert by_key["llm.seed"][1:3] == (3, "env ASSISTANT_LLM__SEED")
    assert by_key["llm.max_tokens"][1:3] == (200, "default")


def test_paths_default_to_xdg_folders(tmp_path, no_default_file, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdata"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xcache"))
    paths = load_config(env={}).config.paths
    assert paths.data == tmp_path / "xdata" / "assistant"
    assert paths.cache == tmp_path / "xcache" / "assistant"
    explicit = load_config(env={}, overrides={"paths.data_dir": str(tmp_path / "d")})
    assert explicit.config.paths.data == tmp_path / "d"


def test_a_voice_subsection_key_from_file_env_and_command_line(tmp_path, no_default_file):
    path = write(tmp_path, "[voice]\necho = 'off'\n[voice.vad]\nmin_rms = 0.01\n"
                           "[voice.tuning]\nresume_after_s = 1.0\n")
    loaded = load_config(path=path, env={"ASSISTANT_VOICE__VAD__AGGRESSIVENESS": "3"},
                         overrides={"voice.tuning.wake_window_s": 4.0})
    voice = loaded.config.voice
    assert (voice.echo, voice.vad.min_rms, voice.vad.aggressiveness) == ("off", 0.01, 3)
    assert (voice.tuning.resume_after_s, voice.tuning.wake_window_s) == (1.0, 4.0)
    assert voice.vad.onset_frames == 3  # untouched keys of the subsection keep their default
    assert loaded.sources["voice.vad.min_rms"] == str(path)
    assert loaded.sources["voice.vad.aggressiveness"] == "env ASSISTANT_VOICE__VAD__AGGRESSIVENESS"
    assert loaded.sources["voice.tuning.wake_window_s"] == "command line"
    rows = {row[0]: row for row in describe(loaded)}
    assert rows["voice.vad.min_rms"][1:3] == (0.01, str(path))


def test_an_unknown_voice_subsection_key_is_named(tmp_path, no_default_file):
    path = write(tmp_path, "[voice.vad]\nminrms = 0.01\n")
    with pytest.raises(ConfigError, match=r"voice\.vad\.minrms"):
        load_config(path=path, env={})
