"""Run configuration: defaults <- recipe/preset <- explicit flags, validated once."""

import pytest

from slimpajama.dedup.config import ConfigError, DedupConfig, dedup_config


def test_flags_override_the_recipe_and_none_means_not_given():
    cfg, mixture = dedup_config("rp", "sp", {"scheme": "fast", "threshold": None}, preset="slimpajama")
    assert (cfg.scheme, cfg.threshold, cfg.band_rows, cfg.recipe) == ("fast", 0.8, (9, 13), "slimpajama-627b")
    assert mixture is None and cfg.output == "sp"


def test_a_recipe_mixture_sends_dedup_output_aside():
    cfg, mixture = dedup_config("rp", "out/", {}, recipe="slimpajama-627b-full")
    assert (mixture, cfg.output, cfg.scheme) == ("slimpajama-627b", "out-dedup", "reference")
    _, flag_mixture = dedup_config("rp", "out", {}, recipe="slimpajama-627b-full", mixture="natural")
    assert flag_mixture == "natural"


def test_source_priority_from_a_comma_list():
    cfg, _ = dedup_config("rp", "sp", {"source_priority": "RedPajamaC4, RedPajamaBook", "keep": "source-priority"})
    assert cfg.source_priority == ("RedPajamaC4", "RedPajamaBook")


@pytest.mark.parametrize("kwargs, message", [
    ({"preset": "slimpajama", "recipe": "local"}, "exclude each other"),
    ({"preset": "nope"}, "unknown preset"),
    ({"recipe": "nope"}, "unknown recipe 'nope'"),
])
def test_bad_combinations(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        dedup_config("rp", "sp", {}, **kwargs)


def test_validation_lists_every_problem():
    with pytest.raises(ConfigError) as error:
        DedupConfig(input="i", output="o", scope="planet", keep="random", bands=3)
    assert str(error.value) == (
        "--scope must be one of ('global', 'local'); --keep must be one of ('first', 'longest', "
        "'source-priority'); --bands and --rows go together"
    )
