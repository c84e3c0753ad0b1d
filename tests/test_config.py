from pathlib import Path

import pytest

from training.config import Config, flatten, load_config

ROOT = Path(__file__).resolve().parents[1]


TRAINING_CONFIGS = sorted(p for p in (ROOT / "configs").glob("*.yaml") if p.name != "sweep.yaml")


@pytest.mark.parametrize("path", TRAINING_CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_load(path):
    config = load_config(path)
    assert isinstance(config, Config)
    assert config.model.base in ("minilm", "mpnet")


def test_overrides_are_typed_and_nested():
    config = load_config(ROOT / "configs/default.yaml",
                         ["training.epochs=2", "training.learning_rate=1e-4", "run_name=x"])
    assert config.training.epochs == 2
    assert config.training.learning_rate == pytest.approx(1e-4)
    assert config.run_name == "x"


def test_int_is_accepted_for_float():
    assert load_config(None, ["training.learning_rate=1"]).training.learning_rate == 1.0


@pytest.mark.parametrize("override, exc, fragment", [
    ("training.epoch=3", ValueError, "'training.epoch'"),
    ("nonsense=1", ValueError, "'nonsense'"),
    ("training.epochs=two", TypeError, "'training.epochs'"),
    ("training.epochs=true", TypeError, "'training.epochs'"),
    ("training.device=gpu", ValueError, "'training.device'"),
    ("training.learning_rate=-0.1", ValueError, "'training.learning_rate'"),
    ("training.epochs=0", ValueError, "'training.epochs'"),
    ("model.max_length=4096", ValueError, "'model.max_length'"),
    ("training=3", TypeError, "'training'"),
    ("no_equals_sign", ValueError, "section.key=value"),
])
def test_bad_values_name_the_key(override, exc, fragment):
    with pytest.raises(exc, match=fragment.replace(".", r"\.")):
        load_config(None, [override])


def test_unknown_key_in_yaml_names_it(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  base: minilm\n  max_lenght: 64\n")
    with pytest.raises(ValueError, match="model.max_lenght"):
        load_config(path)


def test_config_is_frozen():
    config = load_config(None)
    with pytest.raises(AttributeError):
        config.seed = 1  # type: ignore[misc]


def test_flatten_gives_dotted_leaf_keys():
    flat = flatten(load_config(None))
    assert flat["training.epochs"] == 4
    assert "tracking.experiment" in flat
    assert all(not isinstance(v, dict) for v in flat.values())


def test_data_extra_takes_a_list_or_one_name():
    assert load_config(None, ["data.extra=[mine, theirs]"]).data.extra == ("mine", "theirs")
    assert load_config(None, ["data.extra=mine"]).data.extra == ("mine",)
    assert load_config(None).data.extra == ()
    with pytest.raises(TypeError, match="data.extra"):
        load_config(None, ["data.extra=[1]"])
