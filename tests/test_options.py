"""Options: grouped by what they change, built flat, described completely."""

from __future__ import annotations

import dataclasses

import pytest

from convcli.kernels import KERNELS
from convcli.options import Options, ReadOptions, WriteOptions
from convcli.steps import Affine, Convolve


def test_build_groups_flat_keywords_and_orders_the_steps():
    options = Options.build(
        KERNELS["blur"], then=(KERNELS["sharpen"],), padding="same", scale=2, color=True, depth=16
    )
    assert [type(s) for s in options.steps] == [Convolve, Convolve, Affine]
    assert [k.name for k in options.kernels] == ["blur", "sharpen"]
    assert options.read.color and options.write.depth == 16
    assert Options.build(KERNELS["blur"]).steps == (Convolve(KERNELS["blur"]),)


def test_build_refuses_an_unknown_keyword():
    with pytest.raises(TypeError, match="colour"):
        Options.build(KERNELS["blur"], colour=True)


def test_describe_holds_every_field_so_json_cannot_drift():
    doc = Options.build(KERNELS["blur"], scale=3, offset=4).describe()
    for group in (ReadOptions, WriteOptions):
        for field in dataclasses.fields(group):
            assert field.name in doc
    assert (doc["scale"], doc["offset"]) == (3, 4)
    assert [s["step"] for s in doc["steps"]] == ["convolve", "affine"]


def test_a_combine_step_refusing_maps_does_not_list_maps_as_accepted():
    from convcli.steps import Combine

    with pytest.raises(ValueError) as caught:
        Combine("maps")
    assert "magnitude, max, sum, min (" in str(caught.value)
    assert "min, maps" not in str(caught.value)
