"""RecGAN (Bharadhwaj, Park & Lim, RecSys 2018): recurrent generator and discriminator trained as IRGAN.

RecGAN joins Recurrent Recommender Networks (RRN, Wu et al., WSDM 2017) and IRGAN (Wang et
al., SIGIR 2017): both players are recurrent recommenders that learn temporal user and item
factors, and they play IRGAN's minimax game.

Design
- Each player (:class:`RecurrentScorer`) has RRN's factorisation of a score into a dynamic and a
  stationary part, s_t(u, j) = <h_t, m_j> + <p_u, n_j> + a_{j, stage(t)} + b_j:
  * dynamic user state h_t: a GRU over the user's items up to position t (the study's
    padding-neutral GRU of GRU4Rec, whose item embedding is also the dynamic item factor m_j);
  * stationary user and item factors p_u, n_j (RRN's u_i, m_j; the "collaborative filtering"
    part of RecGAN);
  * dynamic item state a_{j, k}: a per-item popularity profile over the user's stage clock (see
    the departures), with an item bias b_j.
  The hidden vector of position t is [h_t; p_u; one-hot(stage(t))] and each item's output vector
  [m_j; n_j; a_j], so the shared next-item loss and scoring of the base class apply unchanged.
- Generator G: softmax over all items of its scores; it is the evaluated recommender.
- Discriminator D: a second :class:`RecurrentScorer` (own parameters, no dropout) whose score of a
  (history, item) pair is the logit that the item is the real next one.
- Training: MLE pre-training of G by the trainer's loss (full softmax, or ``negatives`` sampled
  items with binary cross-entropy); then adversarial steps exactly as IRGAN's
  (:class:`~recstudy.models.sequential.irgan.PolicyGradientGAN`): ``d_steps`` D updates on real
  next items vs items drawn from G's softmax sharpened by ``temperature``; one G update by the policy
  gradient with reward log(1 + exp(D)), importance-sampled from (1 - lambda) G + lambda (real item).

How RecGAN differs from this study's SeqGAN (which stays beside it as a named variant)
- SeqGAN's G is plain GRU4Rec and its D an unpacked GRU over the left-padded prefix (not
  padding-neutral); RecGAN's players both have RRN's dynamic + stationary user and item factors and
  are both padding-neutral.
- SeqGAN's reward is sigmoid(D) with one draw from G per position and D's negatives from G itself;
  RecGAN keeps IRGAN's reward log(1 + exp(D)), importance sampling with two draws per position and
  D's negatives from a sharpened G. Both subtract the batch's mean reward and anchor G with its MLE
  loss (weight 1) by default (see ``irgan.py`` for why; ``mle_weight=0, baseline=False`` is the
  RecGAN/IRGAN papers' setting).

Departures from the paper, and why
- RRN's item state is an item RNN over wall-clock time bins, fed by the ratings the item received
  from all users in each bin. The study's batches hold one user's history each, without a shared
  clock (and not every log has meaningful timestamps), so running an RNN per item over global time
  is out of reach here. The item's dynamic state is approximated by a learned popularity profile over
  the user's *stage*: stage(t) = floor(log2(number of items the user consumed up to t)), 8 stages
  (``stages``; a window of 50 items reaches stage 5). It lets an item's appeal change along a user's
  life (a user's first items may lean to the popular ones), it is causal and padding-neutral, but it is not global
  time: a test target is scored at the stage of its user's last window, and a long history cut into
  windows restarts the count in each window (the GRU state restarts there too).
- The paper's customised GRU cells are replaced by the standard GRU; ratings are not predicted (the
  study's data are implicit next-item events); RRN also adds a dynamic and a stationary dot product,
  but passes its dynamic states through an affine map first (here the GRU state is used as it is).
- IRGAN's departures listed in ``irgan.py`` (Adam, no L2 penalty, real items = the batch's targets)
  apply here too.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recstudy.models.sequential.gru4rec import GRU4Rec
from recstudy.models.sequential.irgan import PolicyGradientGAN


def user_stage(inputs: torch.Tensor, stages: int) -> torch.Tensor:
    """(B, L) stage of each position: floor(log2(real items up to it)), clipped to stages - 1 (0 under pads)."""
    count = (inputs > 0).long().cumsum(dim=1).clamp(min=1)
    return torch.floor(torch.log2(count.float())).long().clamp(max=stages - 1)


class RecurrentScorer(nn.Module):
    """One RecGAN player: RRN's dynamic (GRU) and stationary user and item factors, and item stage popularity."""

    def __init__(self, n_users: int, n_items: int, dim: int, dropout: float, stages: int) -> None:
        super().__init__()
        self.stages = stages
        self.sequence = GRU4Rec(n_items, dim, dropout=dropout)  # dynamic user state; its item embedding is m_j
        self.user = nn.Embedding(n_users, dim)  # stationary user factor p_u
        self.item = nn.Embedding(n_items, dim)  # stationary item factor n_j
        self.stage_popularity = nn.Parameter(torch.zeros(n_items, stages))  # dynamic item state a_{j, k}
        self.bias = nn.Parameter(torch.zeros(n_items))
        nn.init.normal_(self.user.weight, std=dim**-0.5)
        nn.init.normal_(self.item.weight, std=dim**-0.5)

    def hidden(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """(B, L, 2d + stages): [GRU state; stationary user factor; one-hot stage] at every position."""
        dynamic = self.sequence.encode(users, inputs)
        stationary = self.user(users.to(inputs.device))[:, None, :].expand(-1, inputs.shape[1], -1)
        stage = F.one_hot(user_stage(inputs, self.stages), self.stages).to(dynamic.dtype)
        return torch.cat([dynamic, stationary, stage], dim=-1)

    def item_vectors(self) -> torch.Tensor:
        """(n_items, 2d + stages): [dynamic item factor; stationary item factor; stage popularity]."""
        return torch.cat([self.sequence.output_weights(), self.item.weight, self.stage_popularity], dim=1)

    def pairs(self, hidden: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Logits of items (N,) or (N, S) for hidden vectors (N, H)."""
        vectors = self.item_vectors()[items]
        if items.dim() == 2:
            hidden = hidden[:, None, :]
        return (hidden * vectors).sum(-1) + self.bias[items]


class RecGAN(PolicyGradientGAN):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    defaults: dict = {"dim": 64, "dropout": 0.1, "lr": 5e-3}

    def __init__(self, n_items: int, dim: int = 64, dropout: float = 0.2, stages: int = 8, mle_weight: float = 1.0,
                 temperature: float = 0.2, sample_lambda: float = 0.2, baseline: bool = True, d_lr: float = 1e-3,
                 g_lr: float = 1e-3, d_steps: int = 3, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        if n_users < 1 or stages < 1:
            raise ValueError(f"RecGAN needs n_users >= 1 and stages >= 1, got {n_users}, {stages}")
        del self.item_embedding  # each player owns its item embedding
        self.generator = RecurrentScorer(n_users, n_items, dim, dropout, stages)
        self.discriminator = RecurrentScorer(n_users, n_items, dim, 0.0, stages)
        self._init_adversarial(mle_weight, temperature, sample_lambda, baseline, d_lr, g_lr, d_steps)

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        return self.generator.hidden(users, inputs)

    def output_weights(self) -> torch.Tensor:
        return self.generator.item_vectors()

    def output_bias(self) -> torch.Tensor:
        return self.generator.bias

    def generator_logits(self, users: torch.Tensor, inputs: torch.Tensor, valid: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.generator.hidden(users, inputs)[valid] @ self.output_weights().T + self.generator.bias
        return logits, torch.arange(len(logits), device=logits.device)  # one softmax per position

    def discriminator_logits(self, users: torch.Tensor, inputs: torch.Tensor, valid: torch.Tensor,
                             *items: torch.Tensor) -> list[torch.Tensor]:
        hidden = self.discriminator.hidden(users, inputs)[valid]  # the history is read once for all item sets
        return [self.discriminator.pairs(hidden, i) for i in items]
