"""An adversarial sequential recommender in the RecGAN / IRGAN line ("SeqGAN" here).

Design
- Generator G: a GRU4Rec network; at each position it gives a softmax over all
  items for the next one. It is also the recommender that is evaluated.
- Discriminator D: its own item embedding and GRU read the real prefix; for a
  candidate next item c at position t it outputs the logit
  D(t, c) = <W h_t, e_c> + b_c of "c is the real next item".
- Training: MLE pre-training of G (the cross-entropy every other model uses), then
  adversarial epochs. Each adversarial step (i) samples one item per position from
  G (detached); (ii) updates D ``d_steps`` times by binary cross-entropy, real next
  items vs freshly sampled ones (IRGAN also gives its discriminator several updates per
  generator update, so that D is a judge worth listening to); (iii) updates G by REINFORCE with reward sigmoid(D(t, sample))
  minus its batch mean (a baseline to cut variance), plus ``mle_weight`` times the
  MLE loss to keep G anchored to the data.

How this differs from the papers
- IRGAN (Wang et al., SIGIR 2017) is not sequential: G is a softmax over items
  per user, D a pointwise user-item scorer, reward log(1 + exp(D)). We keep its
  policy-gradient minimax but condition both players on the real prefix.
- RecGAN (Bharadhwaj et al., RecSys 2018) uses recurrent recommender networks
  (user and item RNNs over time with rating prediction) in both players; we use a
  single item-sequence GRU in each and no ratings, no time dynamics.
- SeqGAN-style Monte-Carlo roll-outs are unnecessary: each "sequence" to judge is
  one next item after a real prefix, so the reward is immediate.
- MLE pre-training uses the trainer's loss like every other model (full softmax, or
  ``negatives`` sampled items with binary cross-entropy); the MLE anchor inside the
  adversarial steps always uses the full softmax, which the policy gradient needs anyway.
- The generator is the padding-neutral GRU4Rec of this study; the discriminator's own
  GRU reads the left-padded prefix as it is (it judges, it is not evaluated).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recstudy.models.layers import sample_categorical
from recstudy.models.sequential.gru4rec import GRU4Rec
from recstudy.models.sequential.base import SequentialRecommender, generator_softmax, policy_gradient_update


class Discriminator(nn.Module):
    def __init__(self, n_items: int, dim: int) -> None:
        super().__init__()
        self.item_embedding = nn.Embedding(n_items + 1, dim, padding_idx=0)
        self.gru = nn.GRU(dim, dim, batch_first=True)
        self.project = nn.Linear(dim, dim)
        self.item_bias = nn.Embedding(n_items + 1, 1)
        nn.init.zeros_(self.item_bias.weight)

    def forward(self, inputs: torch.Tensor, *candidates: torch.Tensor) -> list[torch.Tensor]:
        """For each (B, L) tensor of candidate tokens, the logits (B, L) that they are the real next items.

        The prefix is read once and shared by all candidate sets.
        """
        hidden, _ = self.gru(self.item_embedding(inputs))
        query = self.project(hidden)
        return [(query * self.item_embedding(c)).sum(-1) + self.item_bias(c).squeeze(-1) for c in candidates]


class SeqGAN(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    defaults: dict = {"dim": 64, "dropout": 0.1, "lr": 5e-3, "mle_weight": 1.0}

    def __init__(self, n_items: int, dim: int = 64, dropout: float = 0.2, mle_weight: float = 1.0,
                 d_lr: float = 1e-3, g_lr: float = 1e-3, d_steps: int = 3, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        del self.item_embedding  # the generator owns the item embedding
        self.generator = GRU4Rec(n_items, dim, dropout=dropout)
        self.discriminator = Discriminator(n_items, dim)
        if d_steps < 1:
            raise ValueError(f"d_steps must be at least 1, got {d_steps}")
        self.mle_weight, self.d_lr, self.g_lr, self.d_steps = mle_weight, d_lr, g_lr, d_steps
        self.adversarial_log: list[dict[str, float]] = []  # one entry per adversarial step
        self._optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer] | None = None

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        return self.generator.encode(users, inputs)

    def output_weights(self) -> torch.Tensor:
        return self.generator.output_weights()

    def loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """MLE loss of the generator (pre-training), with the loss the trainer chose (``negatives``)."""
        self.generator.negatives = self.negatives
        return self.generator.loss(batch)

    def optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        if self._optimizers is None:
            self._optimizers = (torch.optim.Adam(self.generator.parameters(), lr=self.g_lr),
                                torch.optim.Adam(self.discriminator.parameters(), lr=self.d_lr))
        return self._optimizers

    def discriminator_loss(self, inputs: torch.Tensor, targets: torch.Tensor, fake_tokens: torch.Tensor
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """D's binary cross-entropy, real next items (label 1) vs ``fake_tokens`` (label 0), and both logits."""
        valid = targets > 0
        real_logit, fake_logit = (logit[valid] for logit in self.discriminator(inputs, targets, fake_tokens))
        loss = F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit)) + \
            F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
        return loss, real_logit, fake_logit

    def adversarial_step(self, batch: tuple[torch.Tensor, ...]) -> float:
        """``d_steps`` D updates, then one G update, on a batch; returns the generator's loss (logged with D's)."""
        users, inputs, targets = batch
        g_opt, d_opt = self.optimizers()
        valid = targets > 0
        hidden, weights = self.generator.encode(users, inputs)[valid], self.output_weights()
        probs, target_log_probs = generator_softmax(hidden, weights, targets[valid] - 1)  # (N, n_items), (N,)
        fake_tokens = torch.zeros_like(targets)
        draws = sample_categorical(probs, self.d_steps)  # a fresh draw per position from G's softmax for each D update
        for step in range(self.d_steps):  # D learns from a fresh draw of G's items each time
            sampled = draws[:, step]
            fake_tokens[valid] = sampled + 1
            d_loss, real_logit, fake_logit = self.discriminator_loss(inputs, targets, fake_tokens)
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
        with torch.no_grad():  # the reward of G's last draw, from the updated D
            real_logit, fake_logit = (logit[valid] for logit in self.discriminator(inputs, targets, fake_tokens))

        reward = torch.sigmoid(fake_logit.detach())
        g_loss, pg_loss, mle_loss = policy_gradient_update(g_opt, hidden, weights, probs, target_log_probs, sampled,
                                                           reward, targets[valid] - 1, self.mle_weight)
        d_accuracy = 0.5 * ((real_logit > 0).float().mean() + (fake_logit < 0).float().mean())
        self.adversarial_log.append({
            "generator_loss": g_loss.item(), "policy_gradient_loss": pg_loss.item(), "mle_loss": mle_loss.item(),
            "discriminator_loss": d_loss.item(), "discriminator_accuracy": d_accuracy.item(), "reward": reward.mean().item(),
        })
        return g_loss.item()
