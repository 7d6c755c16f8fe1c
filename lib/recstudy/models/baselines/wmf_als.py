"""Weighted one-class matrix factorisation (Pan et al., ICDM 2008; Hu et al. 2008) by alternating least squares.

Every missing cell is a negative (target 0) with weight ``missing_weight`` < 1; every
observed cell is a positive (target 1) with weight 1. ALS minimises

    sum_{u,i} W_ui (P_ui - x_u . y_i)^2 + reg (|X|^2 + |Y|^2)

by updating all user factors at once with the item factors fixed, then the reverse.
User u's factors solve the linear system

    (w Y'Y + (1 - w) Y_u'Y_u + reg I) x_u = Y_u' 1      (Y_u: the rows of Y for u's items),

which we solve for all users together with a few conjugate-gradient steps started from
the current factors (as Takacs et al. 2011 and the `implicit` library do): each step costs
one product with the small Gram matrix Y'Y and one pass over the observed cells only
(never the dense users x items matrix, which on a 30,000 x 24,000 log holds 700 million
cells), and, the system being positive definite, every step lowers the objective, so ALS
stays monotone.
"""

from __future__ import annotations

import numpy as np
import torch

from recstudy.data.pairs import cell_codes, check_pairs


def _conjugate_gradient_side(
    rows: torch.Tensor, cols: torch.Tensor, fixed: torch.Tensor, current: torch.Tensor, missing_weight: float,
    reg: float, steps: int,
) -> torch.Tensor:
    """Improve the factors ``current`` of one side given the other side's ``fixed`` factors.

    ``rows`` and ``cols`` index the observed cells: row ``rows[j]`` of this side interacted
    with row ``cols[j]`` of ``fixed``.
    """
    dim = fixed.shape[1]
    base = missing_weight * (fixed.T @ fixed) + reg * torch.eye(dim, dtype=fixed.dtype, device=fixed.device)
    observed = fixed[cols]  # (cells, dim): the other side's factors at every observed cell

    def per_row_sum(values: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(current).index_add_(0, rows, values)

    def apply_system(x: torch.Tensor) -> torch.Tensor:
        # (w Y'Y + reg I) x_u + (1 - w) Y_u'(Y_u x_u) for every row u at once; Y_u: u's observed cells only
        return x @ base + (1.0 - missing_weight) * per_row_sum((x[rows] * observed).sum(1, keepdim=True) * observed)

    x = current.clone()
    residual = per_row_sum(observed) - apply_system(x)  # right-hand side Y_u' 1
    direction = residual.clone()
    norm_sq = (residual * residual).sum(dim=1, keepdim=True)
    for _ in range(steps):
        applied = apply_system(direction)
        curvature = (direction * applied).sum(dim=1, keepdim=True)
        alpha = norm_sq / curvature.clamp_min(1e-20)
        x += alpha * direction
        residual -= alpha * applied
        new_norm_sq = (residual * residual).sum(dim=1, keepdim=True)
        direction = residual + (new_norm_sq / norm_sq.clamp_min(1e-20)) * direction
        norm_sq = new_norm_sq
    return x


class WeightedMF:
    # Library defaults: the first configuration every tuning budget tries (recstudy.experiments.tuning).
    defaults: dict = {"factors": 64, "reg": 5.0, "missing_weight": 0.1}

    def __init__(
        self, n_users: int, n_items: int, *, factors: int = 64, reg: float = 0.1, missing_weight: float = 0.05,
        iterations: int = 15, cg_steps: int = 3, seed: int = 0, device: str = "cpu",
    ) -> None:
        if not 0.0 < missing_weight < 1.0:
            raise ValueError(f"missing_weight must lie strictly between 0 and 1 (negatives weigh less than positives), got {missing_weight}")
        if factors <= 0 or iterations <= 0 or cg_steps <= 0 or reg < 0:
            raise ValueError(f"need factors, iterations, cg_steps > 0 and reg >= 0, got {factors}, {iterations}, {cg_steps}, {reg}")
        self.n_users, self.n_items, self.device = n_users, n_items, device
        self.factors, self.reg, self.missing_weight = factors, reg, missing_weight
        self.iterations, self.cg_steps, self.seed = iterations, cg_steps, seed
        self.objectives: list[float] = []

    def objective(self) -> float:
        """The weighted squared error plus the L2 penalty (the quantity ALS lowers).

        Over every cell without forming the dense matrix: every cell counts w * pred^2
        (the sum of all pred^2 is the inner product of the two Gram matrices), and an
        observed cell then swaps its w * pred^2 for (1 - pred)^2.
        """
        x, y, w = self.user_factors, self.item_factors, self.missing_weight
        observed = (x[self.users] * y[self.items]).sum(1)
        error = w * ((x.T @ x) * (y.T @ y)).sum() + ((1.0 - observed) ** 2 - w * observed ** 2).sum()
        penalty = self.reg * (x.pow(2).sum() + y.pow(2).sum())
        return float(error + penalty)

    def fit(self, users: np.ndarray, items: np.ndarray, *, track_objective: bool = False) -> "WeightedMF":
        users, items = check_pairs(users, items, self.n_users, self.n_items, name="training pairs")
        cells = np.unique(cell_codes(users, items, self.n_items))  # repeats count once
        self.users = torch.as_tensor(cells // self.n_items, device=self.device)
        self.items = torch.as_tensor(cells % self.n_items, device=self.device)
        gen = torch.Generator().manual_seed(self.seed)
        scale = 0.1 / self.factors ** 0.5
        self.user_factors = (scale * torch.randn(self.n_users, self.factors, generator=gen)).to(self.device)
        self.item_factors = (scale * torch.randn(self.n_items, self.factors, generator=gen)).to(self.device)
        self.objectives = [self.objective()] if track_objective else []
        for _ in range(self.iterations):
            self.user_factors = _conjugate_gradient_side(
                self.users, self.items, self.item_factors, self.user_factors, self.missing_weight, self.reg, self.cg_steps)
            self.item_factors = _conjugate_gradient_side(
                self.items, self.users, self.user_factors, self.item_factors, self.missing_weight, self.reg, self.cg_steps)
            if track_objective:
                self.objectives.append(self.objective())
        return self

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        return self.user_factors[users.to(self.device)] @ self.item_factors.T
