"""The forecast on the data `make dev` seeds (a year of synthetic plays): for the artists with
enough streams to forecast, the model beats seasonal naive in a rolling-origin backtest and
its 80 % intervals cover 70-90 % of the held-out days."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import numpy as np
import pytest

from subgraphs.analytics.forecasting import backtest
from subgraphs.spotify.catalogue.offline import load_sample
from subgraphs.spotify.data.listening import iter_plays

END = datetime(2026, 11, 30, tzinfo=UTC)
DAYS = 365


@pytest.fixture(scope="module")
def daily_streams() -> dict[str, np.ndarray]:
    """Daily streams per artist of a year of the seeded audience (150 listeners, as `make dev`)."""
    artists_of = {track["id"]: [a["id"] for a in track["artists"]] for track in load_sample()["tracks"]}
    start = END.date().toordinal() - DAYS
    series: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(DAYS))
    for play in iter_plays(listeners=150, days=DAYS, end=END, seed=7):
        if play.ms_played >= 30_000:
            for artist in artists_of[play.track_id]:
                series[artist][play.played_at.date().toordinal() - start - 1] += 1
    return dict(series)


def test_the_model_beats_seasonal_naive_with_honest_intervals_on_the_seeded_artists(daily_streams):
    busiest = sorted(daily_streams, key=lambda artist: -daily_streams[artist].sum())[:8]
    results = [backtest(daily_streams[artist], horizon=28, origins=6) for artist in busiest]
    mase = np.mean([result.mase for result in results])
    baseline = np.mean([result.baseline_mase for result in results])
    coverage80 = np.mean([result.coverage80 for result in results])
    coverage95 = np.mean([result.coverage95 for result in results])
    assert mase < baseline, (mase, baseline)
    assert 0.70 <= coverage80 <= 0.90, coverage80
    assert coverage95 >= coverage80
