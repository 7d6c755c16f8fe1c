"""recstudy: the shared library of the reproducible recommender-systems study.

Notebooks import from the submodules directly (``from recstudy.data.movielens import
load_movielens_100k``); this file stays small on purpose.
"""

__version__ = "0.1.0"
