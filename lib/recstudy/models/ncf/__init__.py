"""Neural collaborative filtering (He et al., WWW 2017): GMF, MLP and NeuMF, and their pointwise training."""

from recstudy.models.ncf.gmf import GMF
from recstudy.models.ncf.mlp import MLP
from recstudy.models.ncf.neumf import NeuMF

__all__ = ["GMF", "MLP", "NeuMF"]
