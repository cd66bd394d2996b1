"""The sales dataset, read once per process at import and aggregated with pandas.

Imported only when BAKEOFF_DATA is set (see apps.py and views.data).
"""

import pandas as pd
from django.conf import settings

# The labels repeat: categorical, as pandas documents for such columns.
SALES = pd.read_csv(settings.BAKEOFF_DATA, dtype={"region": "category", "product": "category"})
REGIONS = frozenset(SALES["region"].cat.categories)


def summarize(region):
    """Per-product totals for one region, largest revenue first."""
    rows = SALES[SALES["region"] == region]
    rows = rows.assign(revenue=rows["units"] * rows["unit_price"])
    summary = (
        rows.groupby("product", as_index=False, observed=True)
        .agg(
            count=("units", "size"),
            units=("units", "sum"),
            revenue=("revenue", "sum"),
            mean_unit_price=("unit_price", "mean"),
        )
        .sort_values(["revenue", "product"], ascending=[False, True])
    )
    return summary.to_dict(orient="records")
