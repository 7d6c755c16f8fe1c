"""MFGAN (Ren et al., SIGIR 2020, "Sequential Recommendation with Self-Attentive Multi-Adversarial Network").

Design (as in the paper and the authors' TensorFlow code, github.com/RUCAIBox/MFGAN)
- Generator G: a causal self-attentive recommender (this study's SASRec) giving, at every
  position, a softmax over all items for the next one. G is the recommender that is evaluated.
- Discriminators: one per factor, each judging whether an item is the real next item
  after a prefix *as seen through that factor only* (it reads the prefix's factor values,
  never its item ids, except the item-id discriminator). Each is a one-block self-attention
  encoder (the authors' discriminators have one block) over the factor embeddings of the
  prefix plus positions; for a candidate c at position t its logit of "real" is
  <W h_t, f(c)> + b(c), with f(c), b(c) the factor embedding and bias of c's factor value.
  Factors here (the paper uses item id, category, knowledge-graph and popularity factors;
  MovieLens gives us these):
    * ``item``: the item id;
    * ``genre``: the item's genres (mean of a learned vector per genre);
    * ``year``: release-year bucket (quantiles of the catalogue's release years, plus an
      "unknown year" value);
    * ``popularity``: popularity bucket (below).
- Popularity is a function of the training data, not side information, and the model gets
  no data at construction. It counts the targets of every training batch it sees (MLE
  pre-training batches and adversarial batches, all from the training windows) into the
  buffer ``target_counts``; before each adversarial step the items are bucketed by the
  share of seen items with a smaller count (``popularity_buckets`` equal-share buckets, ties
  kept together), with one extra value for items never seen as a training target. An
  optional ``item_popularity`` (n_items,) constructor argument gives known counts instead.
- Training: MLE pre-training of G with the loss the trainer chose (full softmax, or
  ``negatives`` sampled items), then adversarial steps. Each step (i) draws one item per
  position from G's softmax (detached); (ii) updates every discriminator ``d_steps`` times by
  binary cross-entropy, real next items (label 1) vs freshly drawn ones (label 0), each
  discriminator with its own Adam optimiser; (iii) updates G by policy gradient (REINFORCE)
  with the reward of the draw = the mean over the discriminators of their probability that
  it is real (the authors' code averages the discriminators' outputs with equal weights),
  minus its batch mean as a baseline, plus ``mle_weight`` times the full-softmax MLE loss.

How this differs from the paper / the authors' code, and why
- The authors' discriminators read the whole sequence, candidate included, with
  bidirectional attention, one sequence per judged position; here one causal pass over the
  prefix judges every position at once (a prefix state scored against the candidate's
  factor embedding), as this study's SeqGAN does. Same question, whole-tensor cost.
- The authors' generator reward uses G's top-1 item at the last position only and weights
  the positive term of the sampled BCE loss by it; D is trained on G's top-10 items as
  fakes. Here G's draws at every position are judged and rewarded (the REINFORCE form the
  paper writes), with a batch-mean baseline, and D learns from G's draws.
- The authors alternate many generator epochs with one discriminator epoch; here each
  adversarial step gives every discriminator ``d_steps`` updates (default 1) and then G one.
- Factors: genre, release-year and popularity buckets stand in for the paper's
  category / knowledge-graph / popularity factors of its data sets.
- The authors' generator block has an extra feed-forward layer before the attention; the
  generator here is this study's SASRec unchanged, so the adversarial part is the only
  difference between MFGAN and SASRec in the comparisons.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from recstudy.data.side_info import ItemSideInfo
from recstudy.models.layers import attention_mask, right_aligned_positions, sample_categorical
from recstudy.models.sequential.base import SequentialRecommender, generator_softmax, policy_gradient_update
from recstudy.models.sequential.sasrec import SASRec

FACTORS = ("item", "genre", "year", "popularity")



def year_codes(years: np.ndarray, buckets: int) -> np.ndarray:
    """(n,) release-year bucket per item: 1 = unknown year, 2.. = ``buckets`` quantile buckets of the known years."""
    years = np.asarray(years, dtype=float)
    known = ~np.isnan(years)
    codes = np.ones(len(years), dtype=np.int64)
    if known.any():
        edges = np.unique(np.quantile(years[known], np.linspace(0, 1, buckets + 1)[1:-1]))
        codes[known] = 2 + np.searchsorted(edges, years[known], side="right")
    return codes


def popularity_codes(counts: torch.Tensor, buckets: int) -> torch.Tensor:
    """(n,) popularity bucket per item from its training-target count: 1 = never seen, 2.. = equal-share buckets.

    An item's bucket is decided by the share of seen items with a smaller count, so items
    with equal counts share a bucket and the buckets do not depend on the item order.
    """
    seen = counts > 0
    codes = torch.ones(len(counts), dtype=torch.long, device=counts.device)
    if seen.any():
        ordered = counts[seen].sort().values
        below = torch.searchsorted(ordered, counts[seen], right=False)  # seen items with a smaller count
        codes[seen] = 2 + (below * buckets // int(seen.sum())).clamp(max=buckets - 1)
    return codes


class FactorView(nn.Module):
    """A token's factor value as a vector: an embedding of a per-token code, or the mean of its genres' vectors."""

    def __init__(self, codes: torch.Tensor, size: int, out_dim: int) -> None:
        super().__init__()
        self.multi_hot = codes.dim() == 2
        if self.multi_hot:  # (n_items + 1, G) 0/1 flags, row 0 (pad) all zero: mean of the genre vectors
            counts = codes.sum(1, keepdim=True).clamp(min=1)
            self.register_buffer("codes", codes / counts)
            self.table = nn.Linear(codes.shape[1], out_dim, bias=False)
        else:  # (n_items + 1,) codes, 0 for the pad token
            self.register_buffer("codes", codes)
            self.table = nn.Embedding(size, out_dim, padding_idx=0)
            nn.init.normal_(self.table.weight[1:], std=out_dim**-0.5)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.table(self.codes[tokens])


class FactorDiscriminator(nn.Module):
    """Logits that candidates are the real next items after each prefix, judged through one factor."""

    def __init__(self, codes: torch.Tensor, size: int, dim: int, max_len: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.dim, self.heads, self.max_len = dim, heads, max_len
        self.view = FactorView(codes, size, dim)
        self.bias = FactorView(codes, size, 1)
        if not self.bias.multi_hot:
            nn.init.zeros_(self.bias.table.weight)
        self.position = nn.Embedding(max_len, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=dim, dropout=dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.project = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, inputs: torch.Tensor, *candidates: torch.Tensor) -> list[torch.Tensor]:
        """For each (B, L) tensor of candidate tokens, the logits (B, L); the prefix is encoded once for all."""
        x = self.view(inputs) * self.dim**0.5 + self.position(right_aligned_positions(inputs, self.max_len))
        x = self.dropout(x) * (inputs > 0).unsqueeze(-1)
        query = self.project(self.norm(self.encoder(x, mask=attention_mask(inputs, self.heads, causal=True))))
        return [(query * self.view(c)).sum(-1) + self.bias(c).squeeze(-1) for c in candidates]


class MFGAN(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    # lr 1e-3, dropout 0.2, 2 generator blocks, 2 heads: the authors' settings (their D dropout is 0.25).
    defaults: dict = {"dim": 64, "dropout": 0.2, "lr": 1e-3, "mle_weight": 1.0}

    def __init__(self, n_items: int, item_side: ItemSideInfo, dim: int = 64, max_len: int = 50, blocks: int = 2,
                 heads: int = 2, dropout: float = 0.2, mle_weight: float = 1.0, d_steps: int = 1, d_lr: float = 1e-3,
                 g_lr: float = 1e-3, year_buckets: int = 8, popularity_buckets: int = 10,
                 item_popularity: np.ndarray | None = None, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        del self.item_embedding  # the generator owns the item embedding
        if len(item_side.titles) != n_items:
            raise ValueError(f"item_side has {len(item_side.titles)} rows for {n_items} items: align it with the item indices")
        if d_steps < 1 or year_buckets < 1 or popularity_buckets < 1:
            raise ValueError(f"need d_steps, year_buckets and popularity_buckets >= 1, got {d_steps}, {year_buckets}, "
                             f"{popularity_buckets}")
        self.generator = SASRec(n_items, dim, max_len=max_len, blocks=blocks, heads=heads, dropout=dropout)
        self.max_len, self.mle_weight, self.d_steps, self.d_lr, self.g_lr = max_len, mle_weight, d_steps, d_lr, g_lr
        self.popularity_buckets = popularity_buckets
        counts = torch.zeros(n_items)
        self.fixed_popularity = item_popularity is not None
        if item_popularity is not None:
            counts = torch.as_tensor(np.asarray(item_popularity, dtype=np.float32))
            if counts.shape != (n_items,) or (counts < 0).any():
                raise ValueError(f"item_popularity must hold one non-negative count per item ({n_items})")
        self.register_buffer("target_counts", counts.float())

        def with_pad(codes: np.ndarray | torch.Tensor) -> torch.Tensor:
            codes = torch.as_tensor(codes)
            return torch.cat([torch.zeros((1, *codes.shape[1:]), dtype=codes.dtype), codes])

        genres = with_pad(torch.as_tensor(item_side.genres, dtype=torch.float32))
        years = with_pad(year_codes(item_side.years, year_buckets))
        factor_codes = {
            "item": (torch.arange(n_items + 1), n_items + 1),
            "genre": (genres, genres.shape[1]),
            "year": (years, year_buckets + 2),
            "popularity": (with_pad(popularity_codes(counts, popularity_buckets)), popularity_buckets + 2),
        }
        self.discriminators = nn.ModuleDict({name: FactorDiscriminator(codes, size, dim, max_len, heads, dropout)
                                             for name, (codes, size) in factor_codes.items()})
        self.adversarial_log: list[dict[str, float]] = []  # one entry per adversarial step
        self._optimizers: tuple[torch.optim.Optimizer, dict[str, torch.optim.Optimizer]] | None = None

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        return self.generator.encode(users, inputs)

    def output_weights(self) -> torch.Tensor:
        return self.generator.output_weights()

    def count_targets(self, targets: torch.Tensor) -> None:
        """Add a training batch's targets to ``target_counts`` (the popularity factor's only source)."""
        if not self.fixed_popularity:
            valid = targets[targets > 0] - 1
            self.target_counts += torch.bincount(valid, minlength=self.n_items).to(self.target_counts.dtype)

    def refresh_popularity(self) -> None:
        """Re-bucket the items by the training-target counts seen so far."""
        codes = self.discriminators["popularity"].view.codes
        codes[1:] = popularity_codes(self.target_counts, self.popularity_buckets)
        self.discriminators["popularity"].bias.codes.copy_(codes)

    def loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """MLE loss of the generator (pre-training), with the loss the trainer chose (``negatives``)."""
        if self.training and torch.is_grad_enabled():
            with torch.no_grad():
                self.count_targets(batch[2])
        self.generator.negatives = self.negatives
        return self.generator.loss(batch)

    def optimizers(self) -> tuple[torch.optim.Optimizer, dict[str, torch.optim.Optimizer]]:
        """The generator's Adam and one Adam per discriminator, created on first use (the runner sets the rates first)."""
        if self._optimizers is None:
            self._optimizers = (torch.optim.Adam(self.generator.parameters(), lr=self.g_lr),
                                {name: torch.optim.Adam(d.parameters(), lr=self.d_lr) for name, d in self.discriminators.items()})
        return self._optimizers

    def discriminator_logits(self, inputs: torch.Tensor, targets: torch.Tensor, fake_tokens: torch.Tensor
                             ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """Per factor, the logits (real next items, ``fake_tokens``) at the positions with a target."""
        valid = targets > 0
        return {name: tuple(logit[valid] for logit in d(inputs, targets, fake_tokens)) for name, d in self.discriminators.items()}

    def discriminator_loss(self, inputs: torch.Tensor, targets: torch.Tensor, fake_tokens: torch.Tensor
                           ) -> tuple[torch.Tensor, dict[str, tuple[torch.Tensor, torch.Tensor]]]:
        """Sum over factors of each discriminator's binary cross-entropy (real = 1, fake = 0), and the logits."""
        logits = self.discriminator_logits(inputs, targets, fake_tokens)
        loss = sum(F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) +
                   F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)) for real, fake in logits.values())
        return loss, logits

    def adversarial_step(self, batch: tuple[torch.Tensor, ...]) -> float:
        """``d_steps`` updates of every discriminator, then one generator update; returns the generator's loss."""
        users, inputs, targets = batch[:3]
        g_opt, d_opts = self.optimizers()
        with torch.no_grad():
            self.count_targets(targets)
            if not self.fixed_popularity:
                self.refresh_popularity()
        valid = targets > 0
        hidden, weights = self.generator.encode(users, inputs)[valid], self.output_weights()
        probs, target_log_probs = generator_softmax(hidden, weights, targets[valid] - 1)  # (N, n_items), (N,)
        fake_tokens = torch.zeros_like(targets)
        for _ in range(self.d_steps):  # the discriminators learn from a fresh draw of G's items each time
            sampled = sample_categorical(probs).squeeze(1)
            fake_tokens[valid] = sampled + 1
            d_loss, _ = self.discriminator_loss(inputs, targets, fake_tokens)
            for opt in d_opts.values():
                opt.zero_grad()
            d_loss.backward()
            for opt in d_opts.values():
                opt.step()
        with torch.no_grad():  # the reward of G's last draw, from the updated discriminators
            logits = self.discriminator_logits(inputs, targets, fake_tokens)
        factor_rewards = {name: torch.sigmoid(fake) for name, (_, fake) in logits.items()}
        reward = torch.stack(list(factor_rewards.values())).mean(0)  # equal weights, as the authors' code
        g_loss, pg_loss, mle_loss = policy_gradient_update(g_opt, hidden, weights, probs, target_log_probs, sampled,
                                                           reward, targets[valid] - 1, self.mle_weight)
        entry = {"generator_loss": g_loss.item(), "policy_gradient_loss": pg_loss.item(), "mle_loss": mle_loss.item(),
                 "discriminator_loss": d_loss.item(), "reward": reward.mean().item()}
        accuracies = {name: 0.5 * ((real > 0).float().mean() + (fake < 0).float().mean()).item()
                      for name, (real, fake) in logits.items()}
        entry["discriminator_accuracy"] = float(np.mean(list(accuracies.values())))
        entry.update({f"discriminator_accuracy_{name}": acc for name, acc in accuracies.items()})
        entry.update({f"reward_{name}": r.mean().item() for name, r in factor_rewards.items()})
        self.adversarial_log.append(entry)
        return g_loss.item()
