"""The display helper: blank NaN, integers as integers, rounded floats."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recstudy.plots.tables import show


def test_nan_is_blank_and_numbers_read_well():
    frame = pd.DataFrame({"n": [1200, 3], "x": [0.123456, np.nan], "flag": [True, False], "text": ["a", None]})
    html = show(frame, digits=3).to_html()
    assert "nan" not in html.lower() and "None" not in html
    assert "1,200" in html and "0.123" in html and ">yes<" in html
    assert ">3<" in html  # not 3.000
    assert "0.123" in show(pd.Series([0.1234], name="s"), digits=3).to_html()
