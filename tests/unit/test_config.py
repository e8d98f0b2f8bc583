"""Options resolution: precedence flag > %config > env > pyproject > default, validation, errors."""

from __future__ import annotations

import pytest
from traitlets.config import Config

from nb_agents.config import AgentMagic, Options, find_pyproject, resolve_options
from nb_agents.errors import ConfigError


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.nb_agents]\nmodel = "from-pyproject"\ntimeout = 30\nsystem = "teacher"\n'
        'packages = ["pandas", "scipy"]\n'
    )
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    return sub


def test_defaults_without_anything(tmp_path):
    opts = resolve_options(cfg=AgentMagic(), environ={}, start=tmp_path)
    assert opts.model == "claude-sonnet-4-6"
    assert opts.timeout == 0.0 and opts.short_errors is True
    assert opts.sources["model"] == "default"


def test_pyproject_found_from_cwd_upward(project):
    assert find_pyproject(project) == project.parent.parent / "pyproject.toml"
    opts = resolve_options(cfg=AgentMagic(), environ={}, start=project)
    assert (opts.model, opts.timeout, opts.packages) == ("from-pyproject", 30.0, ("pandas", "scipy"))
    assert opts.sources["model"] == "pyproject"


def test_pyproject_is_read_again_once_it_changes_and_a_broken_one_fails_every_time(project):
    path = project.parent.parent / "pyproject.toml"
    assert resolve_options(cfg=AgentMagic(), environ={}, start=project).model == "from-pyproject"
    path.write_text('[tool.nb_agents]\nmodel = "edited"\n')  # (parsed once per change, not per cell)
    assert resolve_options(cfg=AgentMagic(), environ={}, start=project).model == "edited"
    path.write_text('[tool.nb_agents\nmodel = "x"\n')
    for _ in range(2):
        with pytest.raises(ConfigError, match="cannot read"):
            resolve_options(cfg=AgentMagic(), environ={}, start=project)
    path.write_text('[tool.nb_agents]\nmodel = "fixed"\n')
    assert resolve_options(cfg=AgentMagic(), environ={}, start=project).model == "fixed"


def test_precedence_env_over_pyproject_config_over_env_flag_over_all(project):
    env = {"NB_AGENTS_MODEL": "from-env", "NB_AGENTS_VERBOSE": "true", "NB_AGENTS_TIMEOUT": "12.5"}
    opts = resolve_options(cfg=AgentMagic(), environ=env, start=project)
    assert (opts.model, opts.verbose, opts.timeout) == ("from-env", True, 12.5)
    assert opts.system == "teacher"  # untouched layers still come through

    cfg = Config()
    cfg.AgentMagic.model = "from-config"
    magic = AgentMagic(config=cfg)
    opts = resolve_options(cfg=magic, environ=env, start=project)
    assert opts.model == "from-config" and opts.sources["model"] == "%config"

    opts = resolve_options({"model": "from-flag", "timeout": None}, cfg=magic, environ=env, start=project)
    assert opts.model == "from-flag" and opts.sources["model"] == "flag"
    assert opts.timeout == 12.5  # None means "flag not given"


def test_the_ambient_layers_are_coerced_once_and_still_follow_every_change(project):
    """Defaults, pyproject, env and `%config` are coerced once per content (a cell resolves its
    options several times), yet a changed layer counts at once and a bad value fails every time."""
    magic = AgentMagic()
    first = resolve_options(cfg=magic, environ={"NB_AGENTS_TIMEOUT": "5"}, start=project)
    again = resolve_options(cfg=magic, environ={"NB_AGENTS_TIMEOUT": "5"}, start=project)
    assert first == again and first.timeout == 5.0
    assert resolve_options(cfg=magic, environ={"NB_AGENTS_TIMEOUT": "7"}, start=project).timeout == 7.0
    magic.timeout = 9.0
    assert resolve_options(cfg=magic, environ={"NB_AGENTS_TIMEOUT": "7"}, start=project).timeout == 9.0
    magic.timeout = 0.0
    for _ in range(2):
        with pytest.raises(ConfigError, match="timeout"):
            resolve_options(cfg=magic, environ={"NB_AGENTS_TIMEOUT": "-1"}, start=project)
    assert resolve_options(cfg=magic, environ={}, start=project).timeout == 30.0  # the pyproject's again


def test_plain_attribute_assignment_counts_as_config(tmp_path):
    magic = AgentMagic()
    magic.quiet = True
    assert resolve_options(cfg=magic, environ={}, start=tmp_path).quiet is True


def test_unknown_names_get_a_suggestion(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown option 'modle' \(did you mean 'model'\?\)"):
        resolve_options({"modle": "x"}, cfg=AgentMagic(), environ={}, start=tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.nb_agents]\ntimout = 3\n")
    with pytest.raises(ConfigError, match="did you mean 'timeout'"):
        resolve_options(cfg=AgentMagic(), environ={}, start=tmp_path)


def test_bad_values_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="NB_AGENTS_TIMEOUT"):
        resolve_options(cfg=AgentMagic(), environ={"NB_AGENTS_TIMEOUT": "soon"}, start=tmp_path)
    with pytest.raises(ConfigError, match="bad value for timeout"):
        resolve_options({"timeout": "soon"}, cfg=AgentMagic(), environ={}, start=tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.nb_agents\n")
    with pytest.raises(ConfigError, match="cannot read"):
        resolve_options(cfg=AgentMagic(), environ={}, start=tmp_path)


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf"), -0.5])
@pytest.mark.parametrize("name", ["timeout", "interrupt_wait", "max_usd"])
def test_amounts_are_finite_and_not_negative_in_every_layer(tmp_path, name, value):
    with pytest.raises(ConfigError, match=rf"^bad value for {name}: .* \(a finite number, 0 or more: "):
        resolve_options({name: value}, cfg=AgentMagic(), environ={}, start=tmp_path)
    with pytest.raises(ConfigError, match=rf"^bad value for {name}: "):
        resolve_options(cfg=AgentMagic(), environ={f"NB_AGENTS_{name.upper()}": str(value)}, start=tmp_path)
    (tmp_path / "pyproject.toml").write_text(f"[tool.nb_agents]\n{name} = {value}\n")
    with pytest.raises(ConfigError, match=rf"^bad value for {name}: "):
        resolve_options(cfg=AgentMagic(), environ={}, start=tmp_path)
    with pytest.raises(ConfigError, match=rf"^bad value for {name}: "):
        resolve_options(cfg=AgentMagic(), environ={}, start=tmp_path).replace(**{name: value})


def test_every_float_option_is_checked_as_an_amount(tmp_path):
    from traitlets import Float

    from nb_agents.config import _AMOUNTS

    floats = {n for n, t in AgentMagic.class_traits(config=True).items() if isinstance(t, Float)}
    assert floats == set(_AMOUNTS)
    assert resolve_options({"timeout": 0}, cfg=AgentMagic(), environ={}, start=tmp_path).timeout == 0.0  # no limit


def test_options_are_immutable_and_replace_marks_flags(tmp_path):
    opts = resolve_options(cfg=AgentMagic(), environ={}, start=tmp_path)
    with pytest.raises(AttributeError):
        opts.model = "x"  # type: ignore[misc]
    changed = opts.replace(model="m2", quiet=True)
    assert isinstance(changed, Options) and changed.model == "m2" and changed.sources["quiet"] == "flag"
    assert opts.model == "claude-sonnet-4-6"


def test_every_trait_has_help_and_an_option_field():
    fields = set(Options.__dataclass_fields__) - {"sources"}
    traits = AgentMagic.class_traits(config=True)
    assert set(traits) == fields
    assert all(t.help for t in traits.values())
