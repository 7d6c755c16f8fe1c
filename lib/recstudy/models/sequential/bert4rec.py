"""BERT4Rec (Sun et al., CIKM 2019): a bidirectional transformer trained by masked-item prediction.

Trained as the authors' code (FeiSun/BERT4Rec) trains it:
- masking picks a fixed count per sequence, round(``mask_prob`` x length) and at least one
  item, rather than an independent coin per item; of the picked items 80% are replaced by
  [mask], 10% by a random item and 10% kept (BERT's recipe, which their code uses);
- mask-last instances: a share ``mask_last_prob`` of the training sequences mask only
  their last item, which is how the model is scored (their data generation adds one such
  instance per user beside ten random-mask copies, so about 1 in 11; we default to 0.1);
- the output transform of BERT's masked-LM head (dense + GELU + LayerNorm) before the
  tied item embedding, and a per-item output bias;
- post-LN transformer blocks as BERT (``norm_first=False``; pre-LN is available as an option).
Scoring appends [mask] after the user's history and reads the prediction there. Positions
count from the end of the window, so the model is padding-neutral.

Departures: full-softmax cross-entropy over the masked positions (their code: softmax over
all items too); each epoch draws new masks over the same windows (their code fixes ten
masked copies in advance, a dupe factor of 10); windows are the max_len chunks of the
training history that every model of the study uses; Adam without their warm-up and
linear decay of the learning rate.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recstudy.models.layers import attention_mask, right_aligned_positions
from recstudy.models.sequential.base import SequentialRecommender, next_item_loss


def masked_positions(sequence: torch.Tensor, mask_prob: float, mask_last_prob: float) -> torch.Tensor:
    """Which positions of each left-padded sequence to predict: a fixed count per row, or only the last item.

    A row masks round(mask_prob x its length) of its real items (at least one), chosen
    uniformly; a share ``mask_last_prob`` of the rows masks only its last item instead.
    """
    real = sequence > 0
    counts = (real.sum(dim=1).float() * mask_prob).round().clamp(min=1).long()
    noise = torch.rand(sequence.shape, device=sequence.device).masked_fill(~real, 2.0)  # pads rank last
    rank = noise.argsort(dim=1).argsort(dim=1)
    masked = (rank < counts[:, None]) & real
    last_only = torch.rand(len(sequence), device=sequence.device) < mask_last_prob
    masked[last_only] = False
    masked[last_only, -1] = real[last_only, -1]
    return masked


class BERT4Rec(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    defaults: dict = {"dim": 64, "dropout": 0.3, "lr": 5e-3}

    def __init__(self, n_items: int, dim: int = 64, max_len: int = 50, blocks: int = 2, heads: int = 2,
                 dropout: float = 0.2, mask_prob: float = 0.2, mask_last_prob: float = 0.1, norm_first: bool = False,
                 n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        if not 0 < mask_prob < 1 or not 0 <= mask_last_prob <= 1:
            raise ValueError(f"need 0 < mask_prob < 1 and 0 <= mask_last_prob <= 1, got {mask_prob}, {mask_last_prob}")
        if dim % heads:
            raise ValueError(f"dim ({dim}) must be divisible by heads ({heads})")
        self.heads, self.max_len, self.mask_prob, self.mask_last_prob = heads, max_len, mask_prob, mask_last_prob
        self.mask_token = n_items + 1
        self.mask_embedding = nn.Parameter(torch.randn(dim) * dim**-0.5)
        self.position = nn.Embedding(max_len, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=4 * dim, dropout=dropout, batch_first=True,
                                           norm_first=norm_first, activation="gelu")
        self.encoder = nn.TransformerEncoder(layer, blocks, enable_nested_tensor=False)
        self.norm_in = nn.LayerNorm(dim)
        self.norm_out = nn.LayerNorm(dim) if norm_first else nn.Identity()  # pre-LN needs a final norm
        self.transform = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.LayerNorm(dim))  # BERT's masked-LM head
        self.bias = nn.Parameter(torch.zeros(n_items))
        self.dropout = nn.Dropout(dropout)

    def output_bias(self) -> torch.Tensor:
        return self.bias

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        is_mask = inputs == self.mask_token
        emb = self.item_embedding(inputs.masked_fill(is_mask, 0))
        emb = torch.where(is_mask.unsqueeze(-1), self.mask_embedding.expand_as(emb), emb)
        x = self.dropout(self.norm_in(emb + self.position(right_aligned_positions(inputs, self.max_len))))
        x = x * (inputs > 0).unsqueeze(-1)  # pads stay zero
        hidden = self.norm_out(self.encoder(x, mask=attention_mask(inputs, self.heads, causal=False)))
        return self.transform(hidden)

    def loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        users, _, sequence = batch  # the target row is the window's item sequence
        masked = masked_positions(sequence, self.mask_prob, self.mask_last_prob)
        # BERT's 80/10/10: most picked items become [mask], some a random item, some stay as they are
        draw = torch.rand(sequence.shape, device=sequence.device)
        corrupted = sequence.masked_fill(masked & (draw < 0.8), self.mask_token)
        random_items = torch.randint(1, self.n_items + 1, sequence.shape, device=sequence.device)
        corrupted = torch.where(masked & (draw >= 0.8) & (draw < 0.9), random_items, corrupted)
        hidden = self.encode(users, corrupted)
        return next_item_loss(hidden[masked], sequence[masked] - 1, self.output_weights(), self.negatives, self.bias)

    def scores(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        query = F.pad(inputs[:, 1:], (0, 1), value=self.mask_token)
        return self.encode(users, query)[:, -1] @ self.output_weights().T + self.bias
