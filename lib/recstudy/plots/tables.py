"""Tables for people: blank cells instead of NaN, integers as integers, floats rounded."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _cell(value, digits: int) -> str:
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{int(value):,}" if float(value).is_integer() and abs(value) >= 1000 else f"{value:.{digits}f}"
    return str(value)


def show(table: pd.DataFrame | pd.Series, digits: int = 4) -> pd.DataFrame:
    """``table`` as text cells for display: NaN blank, integers without decimals, floats to ``digits`` places.

    A plain DataFrame (not a Styler), so its text form is deterministic and nbval can check it.
    """
    frame = table.to_frame() if isinstance(table, pd.Series) else table
    return frame.apply(lambda column: column.map(lambda v: _cell(v, digits)))
