"""NeuMF: GMF and MLP with their own embeddings, last hidden layers concatenated (He et al., WWW 2017).

``layers`` is the MLP branch's tower in the authors' convention (see :mod:`.mlp`: ``layers[0]``
is the concatenation width, so the branch's embeddings have ``layers[0] // 2`` factors).
Departures: as for GMF and MLP; the pretrained variant fine-tunes with Adam at a tenth of
the learning rate instead of the paper's plain SGD (see ``recstudy.models.ncf.train``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from recstudy.models.ncf.gmf import GMF
from recstudy.models.ncf.mlp import MLP


class NeuMF(nn.Module):
    """A GMF branch (``mf_factors``) and an MLP branch (tower ``layers``) under one linear output."""

    # Library defaults: the first configuration every tuning budget tries (recstudy.experiments.tuning).
    defaults: dict = {"mf_factors": 16, "layers": (32, 16, 8), "lr": 5e-3}

    def __init__(
        self,
        n_users: int,
        n_items: int,
        mf_factors: int = 8,
        layers: Sequence[int] = (16, 8),
        init_std: float = 0.01,
    ) -> None:
        super().__init__()
        self.n_users, self.n_items = n_users, n_items
        self.gmf = GMF(n_users, n_items, mf_factors, init_std=init_std)
        self.mlp = MLP(n_users, n_items, layers, init_std=init_std)
        # The branches' own output layers are unused; NeuMF's output reads both hidden layers.
        self.gmf.output.requires_grad_(False)
        self.mlp.output.requires_grad_(False)
        self.output = nn.Linear(mf_factors + self.mlp.hidden_size, 1)

    @classmethod
    def from_pretrained(cls, gmf: GMF, mlp: MLP, alpha: float = 0.5) -> "NeuMF":
        """NeuMF initialised from trained GMF and MLP, as in the NCF paper.

        Embeddings and MLP layers are copied; the output layer is
        [alpha * h_gmf, (1 - alpha) * h_mlp] with bias alpha * b_gmf + (1 - alpha) * b_mlp,
        so at alpha = 0.5 NeuMF starts as the mean of the two models' logits.
        """
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
        if (gmf.n_users, gmf.n_items) != (mlp.n_users, mlp.n_items):
            raise ValueError("GMF and MLP were trained on different numbers of users or items")
        model = cls(gmf.n_users, gmf.n_items, gmf.factors, mlp.layers)
        model.gmf.load_state_dict(gmf.state_dict())
        model.mlp.load_state_dict(mlp.state_dict())
        with torch.no_grad():
            model.output.weight.copy_(torch.cat([alpha * gmf.output.weight, (1 - alpha) * mlp.output.weight], dim=1))
            model.output.bias.copy_(alpha * gmf.output.bias + (1 - alpha) * mlp.output.bias)
        return model.to(next(gmf.parameters()).device)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Logits (B,) of the pairs (users[b], items[b])."""
        hidden = torch.cat([self.gmf.hidden(users, items), self.mlp.hidden(users, items)], dim=-1)
        return self.output(hidden).squeeze(-1)

    @torch.no_grad()
    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        """Logits (B, n_items) of every item for each user (no autograd): the output layer splits over the two branches."""
        f = self.gmf.factors
        w_gmf, w_mlp = self.output.weight[:, :f], self.output.weight[:, f:]
        gmf_part = (self.gmf.user_embedding(users) * w_gmf) @ self.gmf.item_embedding.weight.T
        mlp_part = torch.cat([(hidden @ w_mlp.T).squeeze(-1) for hidden in self.mlp.hidden_blocks(users)])
        return gmf_part + mlp_part + self.output.bias
