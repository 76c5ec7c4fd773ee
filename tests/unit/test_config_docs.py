"""docs/configuration.md is generated from the settings models: it must equal the generator's output."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from pydantic_settings import BaseSettings

from schemas import settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("watchfloor_gen_config", DOCS / "gen_config.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_committed_configuration_doc_is_the_generators_output() -> None:
    committed = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert committed == _generator().render(), (
        "docs/configuration.md is stale: run `.venv/bin/python docs/gen_config.py > docs/configuration.md`"
    )


def test_every_settings_class_and_variable_is_documented() -> None:
    gen = _generator()
    classes = {
        obj
        for obj in vars(settings).values()
        if isinstance(obj, type) and issubclass(obj, BaseSettings) and obj is not BaseSettings
    }
    assert classes == set(gen.SETTINGS), "a new settings class must be added to docs/gen_config.py"
    text = gen.render()
    for model in classes:
        prefix = model.model_config["env_prefix"]
        for name in model.model_fields:
            assert f"`{prefix}{name.upper()}`" in text


def test_machine_dependent_defaults_are_not_rendered() -> None:
    text = _generator().render()
    assert str(Path.home()) not in text
    assert "`~/.cache/watchfloor`" in text
