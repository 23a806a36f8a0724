"""Same arguments, same bytes: every number the demo plants can be pinned by other tests."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from comptroller.demo import DemoDataset, generate
from tests.demo.conftest import END, SCALE


def test_same_arguments_give_identical_files_and_tables(demo: DemoDataset, tmp_path):
    again = generate(tmp_path / "again", end=END, scale=SCALE)
    assert [p.name for p in again.focus_files] == [p.name for p in demo.focus_files]
    for mine, theirs in zip(demo.focus_files, again.focus_files, strict=True):
        assert mine.read_bytes() == theirs.read_bytes(), mine.name
    first_truth = demo.focus_files[0].parent / "truth.json"
    assert first_truth.read_bytes() == (tmp_path / "again" / "truth.json").read_bytes()
    assert again.usage_events.equals(demo.usage_events, check_metadata=True)
    assert (again.rules, again.owners, again.allocations, again.truth) == (
        demo.rules,
        demo.owners,
        demo.allocations,
        demo.truth,
    )


def test_truth_json_is_the_returned_truth(demo: DemoDataset):
    written = json.loads((demo.focus_files[0].parent / "truth.json").read_text())
    assert written == json.loads(json.dumps(demo.truth))


def test_another_seed_gives_other_data(demo: DemoDataset, tmp_path):
    other = generate(tmp_path / "other", end=END, scale=SCALE, seed=8)
    assert not other.usage_events.equals(demo.usage_events)
    assert other.focus_files[0].read_bytes() != demo.focus_files[0].read_bytes()
    assert set(other.usage_events["event_id"].to_pylist()).isdisjoint(
        demo.usage_events["event_id"].to_pylist()
    )


def test_event_ids_are_unique(demo: DemoDataset):
    ids = demo.usage_events["event_id"]
    assert len(set(ids.to_pylist())) == len(ids)


def test_generation_does_not_depend_on_the_clock_or_output_folder(tmp_path):
    a = generate(tmp_path / "a", end=dt.date(2025, 1, 9), months=1, scale=0.05)
    time.sleep(1.1)  # gzip and parquet headers must not carry a timestamp or a file name
    b = generate(tmp_path / "b" / "nested", end=dt.date(2025, 1, 9), months=1, scale=0.05)
    for x, y in zip(a.focus_files, b.focus_files, strict=True):
        assert x.read_bytes() == y.read_bytes()


def test_full_scale_size(tmp_path):
    """About 150,000 events over three whole months at scale 1.0."""
    full = generate(tmp_path, end=dt.date(2025, 6, 30))
    assert 140_000 <= full.usage_events.num_rows <= 165_000


@pytest.mark.parametrize(("end", "months"), [(dt.date(2025, 1, 1), 1), (dt.date(2024, 12, 31), 2)])
def test_period_edges(tmp_path, end, months):
    ds = generate(tmp_path, end=end, months=months, scale=0.05)
    period = ds.truth["period"]
    assert period["end"] == end.isoformat()
    assert len(period["months"]) == months
    assert period["start"].endswith("-01")
    stamps = ds.usage_events["timestamp"].to_pylist()
    assert min(stamps).date().isoformat() >= period["start"]
    assert max(stamps).date() <= end


def test_rejects_nonsense(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, end=END, months=0)
    with pytest.raises(ValueError):
        generate(tmp_path, end=END, scale=0)
