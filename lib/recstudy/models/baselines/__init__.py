"""Baselines: most popular, item-kNN, user CF, BPR-MF, weighted MF by ALS, and the first-order Markov chain."""

from recstudy.models.baselines.bpr_mf import BPRMF
from recstudy.models.baselines.item_knn import ItemKNN
from recstudy.models.baselines.markov_chain import MarkovChain
from recstudy.models.baselines.popularity import MostPopular
from recstudy.models.baselines.user_cf import UserCF
from recstudy.models.baselines.wmf_als import WeightedMF

__all__ = ["BPRMF", "ItemKNN", "MarkovChain", "MostPopular", "UserCF", "WeightedMF"]
