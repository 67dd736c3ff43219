"""The engine's faster forms give exactly the numbers of the plain NumPy they replace."""

from __future__ import annotations

import numpy as np

from labecon.engine.lifecycle import spread
from labecon.engine.revenue import frontier_capability
from labecon.finance import irr_per_year


def test_spread_is_np_where_also_for_negative_zero_and_nan() -> None:
    rng = np.random.default_rng(1)
    mask = rng.random((5, 7, 3)) > 0.5
    for amounts in (rng.random((5, 3)), np.array([[-0.0, 1.0, np.nan]] * 5)):
        expected = np.where(mask, amounts[:, None, :], 0.0)
        got = spread(mask, amounts)
        assert got.tobytes() == expected.tobytes()  # bit for bit, signs of zero included


def test_frontier_capability_is_the_largest_on_sale() -> None:
    rng = np.random.default_rng(2)
    on = rng.random((6, 9, 4)) > 0.4
    capability = rng.random((6, 4)) * 3
    expected = np.where(on, capability[:, None, :], 0.0).max(axis=2)
    np.testing.assert_array_equal(frontier_capability(capability, on), expected, strict=True)


def _irr_iterating_every_entry(window: np.ndarray, iterations: int = 60) -> np.ndarray:
    """finance.irr_per_year as first written: entries stop only when their step is tiny."""
    span = window.shape[2]
    out_total = -np.where(window < 0, window, 0.0).sum(axis=2)
    in_total = np.where(window > 0, window, 0.0).sum(axis=2)
    valid = (out_total > 0) & (in_total > 0)
    ratio = np.divide(in_total, out_total, out=np.ones_like(in_total), where=valid)
    v = (1.0 / np.where(valid, ratio ** (1.0 / max(span / 2.0, 1.0)), 1.0)).ravel()
    flows, powers = window.reshape(-1, span), np.arange(span, dtype=np.float64)
    todo = np.flatnonzero(valid.ravel())
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(iterations):
            if todo.size == 0:
                break
            part, x = flows[todo], v[todo]
            vk = x[:, None] ** powers
            value = (part * vk).sum(axis=1)
            slope = (part[:, 1:] * powers[1:] * vk[:, :-1]).sum(axis=1)
            step = np.divide(value, slope, out=np.zeros_like(value), where=slope != 0)
            v[todo] = np.clip(x - step, 1e-6, 1e6)
            todo = todo[np.abs(step) > 1e-13 * np.abs(x)]
        v = v.reshape(valid.shape)
        residual = np.abs((window * v[:, :, None] ** powers).sum(axis=2))
        ok = valid & (residual <= 1e-6 * np.maximum(out_total, 1.0)) & np.isfinite(v)
    with np.errstate(over="ignore", divide="ignore"):
        return np.where(ok, v**-12.0 - 1.0, np.nan)


def test_irr_stopping_entries_at_the_clip_bound_changes_nothing() -> None:
    rng = np.random.default_rng(3)
    flows = rng.normal(0.0, 1.0, size=(40, 6, 24)) * 10.0 ** rng.integers(0, 4, (40, 6, 1))
    flows[:, :, :6] = -np.abs(flows[:, :, :6])  # training first
    flows[:5, :, 6:] *= 1e-9  # almost nothing back: no root in range, held at the bound
    flows[5:10, :, -1] = 1e12  # an enormous return
    assert irr_per_year(flows).tobytes() == _irr_iterating_every_entry(flows).tobytes()
