"""Per-sample yearly results as Parquet, for notebooks: one tidy long table.

Columns: ``sample`` (int32), ``year`` (int16), ``view`` and ``item`` (dictionary-encoded
strings), ``value`` (float64): every item of every view, each sample's yearly value exactly
as :meth:`Result.annual_samples` gives it (flows summed over the year, balances at year end,
levels averaged). Rows are ordered by view, item, sample and year, so one item is one
contiguous block. Long rather than wide because views share item names (both statements
have ``revenue``) and a filter on ``view``/``item`` reads one series::

    frame = pandas.read_parquet("samples.parquet")
    revenue = frame.query("view == 'expensed' and item == 'revenue'")
    revenue.pivot(index="sample", columns="year", values="value").quantile(0.5)
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from labecon.result import Result

COLUMNS = ("sample", "year", "view", "item", "value")


def samples_table(result: Result) -> pa.Table:
    """The long table of every sample's yearly value of every item."""
    samples, years = result.sample_count, np.asarray(result.years, dtype=np.int16)
    keys = [(view, item) for view, items in result.statements.items() for item in items]
    block = samples * len(years)
    values = np.empty(block * len(keys), dtype=np.float64)
    for k, (view, item) in enumerate(keys):
        values[k * block : (k + 1) * block] = result.annual_samples(view, item).ravel()
    sample = np.tile(np.repeat(np.arange(samples, dtype=np.int32), len(years)), len(keys))
    year = np.tile(years, samples * len(keys))
    names = sorted({view for view, _ in keys}), sorted({item for _, item in keys})
    view_index = {name: i for i, name in enumerate(names[0])}
    item_index = {name: i for i, name in enumerate(names[1])}
    view_codes = np.repeat(np.array([view_index[v] for v, _ in keys], dtype=np.int32), block)
    item_codes = np.repeat(np.array([item_index[i] for _, i in keys], dtype=np.int32), block)
    metadata = {
        "labecon.scenario": result.scenario.name,
        "labecon.seed": str(result.seed),
        "labecon.samples": str(samples),
        "labecon.note": "each sample's yearly value: flows summed over the year, balances "
        "at year end, levels (GW, rates) averaged over the year",
    }
    return pa.table(
        {
            "sample": pa.array(sample),
            "year": pa.array(year),
            "view": pa.DictionaryArray.from_arrays(view_codes, pa.array(names[0])),
            "item": pa.DictionaryArray.from_arrays(item_codes, pa.array(names[1])),
            "value": pa.array(values),
        }
    ).replace_schema_metadata(metadata)


def parquet_bytes(result: Result) -> bytes:
    """The Parquet file's bytes (zstd-compressed)."""
    sink = pa.BufferOutputStream()
    pq.write_table(samples_table(result), sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())
