"""The study-level marker simulator: which regions it simulates, and its seeding."""

from __future__ import annotations

import pandas as pd
import pytest

from ketephys.errors import SettingsError
from ketephys.simulate.markers import simulate_marker_study


@pytest.mark.parametrize("scenario,region", [("too_fast", "FAST"), ("too_slow", "SLOW")])
def test_named_scenario_with_default_regions_simulates_its_own(scenario, region):
    table, truth = simulate_marker_study(scenario, n_subjects=3, seed=1)
    assert set(table["region"]) == {region} and list(truth["regions"]) == [region]
    same, _ = simulate_marker_study(scenario, n_subjects=3, regions=None, seed=1)
    pd.testing.assert_frame_equal(table, same)


def test_regions_not_in_the_scenario_are_named():
    with pytest.raises(SettingsError, match=r"region 'PFC' is not in the scenario \(\['FAST'\]\)"):
        simulate_marker_study("too_fast", n_subjects=3, regions=["PFC"], seed=1)
    with pytest.raises(SettingsError, match="region 'XX'"):
        simulate_marker_study(n_subjects=3, regions=["HPC", "XX"], seed=1)


def test_regions_subset_order_and_seed():
    table, truth = simulate_marker_study(n_subjects=4, regions=["STR", "HPC"], seed=3)
    assert list(dict.fromkeys(table["region"])) == ["STR", "HPC"]
    assert list(truth["regions"]) == ["STR", "HPC"]
    assert len(table) == 4 * 2 * 6  # subjects x regions x default visits
    again, _ = simulate_marker_study(n_subjects=4, regions=["STR", "HPC"], seed=3)
    pd.testing.assert_frame_equal(table, again)
    other, _ = simulate_marker_study(n_subjects=4, regions=["STR", "HPC"], seed=4)
    assert not other["value"].equals(table["value"])
