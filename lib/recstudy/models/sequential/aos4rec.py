"""AOS4Rec (Zhao et al., IJCAI 2020): adversarial oracular sequence-to-sequence learning for sequential recommendation.

The paper casts next-item recommendation as seq2seq: an encoder reads the user's history, a
decoder produces the items that follow, one after another, so that the model learns the
transitions *within* the recommended sequence. The generator is trained by oracular learning
(teacher forcing whose decoder inputs are sometimes "oracle" items chosen by the model itself,
following Zhang et al., ACL 2019, whom the paper cites together with Gumbel's noise) and by
adversarial learning against a critic that tells real continuations from generated ones.

Design
- Encoder: the study's padding-neutral GRU (a :class:`GRU4Rec` module, whose item
  embedding is shared by the decoder and tied to the output layer). h_t, the encoder state at
  position t, reads only positions <= t (causal).
- Decoder: a GRU cell started at h_t. Step 1 scores the next item from h_t itself (so the
  first-step distribution is :meth:`scores`, the evaluated recommender, exactly the shared
  encode -> output weights path); step s > 1 feeds the item of step s - 1 and scores item s.
  The generator predicts ``k`` items (default 3) after every prefix, all positions at once.
- Oracular (MLE) loss: the next-item loss (the trainer's: full softmax, or ``negatives`` sampled
  items with binary cross-entropy) of the k real following items after every prefix, over every
  (position, step) whose real item lies in the window. The decoder input of step s > 1 is the real
  item s - 1 (teacher forcing: the oracle knows the future) except, with probability
  ``oracle_rate``, the model's own Gumbel-max choice argmax(logits + Gumbel noise) at step s - 1 (the
  "oracle word" of Zhang et al.), which exposes the decoder to its own predictions as at inference.
- Critic (Wasserstein): a GRU reads a k-item continuation (its own item embedding) from a state
  made of the history's encoding; a linear layer gives the score C. It is trained to maximise
  E[C(real continuation)] - E[C(generated continuation)] with weight clipping to [-clip, clip]
  (clip = 0.01) and RMSprop, as the original WGAN (Arjovsky et al., 2017).
- Adversarial step: draw a k-item continuation from the decoder (free running, each item sampled
  from its softmax and fed back) after ``rollouts`` (default 8) random prefixes of each window among
  those that have k real following items; ``d_steps`` critic updates on that draw against the real
  continuations; then one generator update: REINFORCE on the sum of the draw's log-probabilities
  with the critic's score as reward (standardised over the batch: a baseline, and a scale that does
  not depend on the clipped critic's tiny outputs) plus ``mle_weight`` (default 1) times the oracular
  loss (full softmax).
- Log (``adversarial_log``, one dict per step, the keys of every GAN of the study): generator_loss,
  policy_gradient_loss (the adversarial term alone), mle_loss (the oracular loss), discriminator_loss
  (= critic_loss = -wasserstein_estimate, the critic's estimate E[C(real)] - E[C(fake)] negated),
  discriminator_accuracy (share of judged prefixes whose real continuation the critic scores above
  the generated one) and reward (mean critic score of the generated continuations).

Simplifications, and why
- The paper's full text was not at hand while writing this module; the above follows its abstract
  and the study's brief. Its seq2seq models were RNN- and Transformer-based; this is the RNN one.
- The decoder predicts a fixed, small number ``k`` of items after each prefix (not a whole future
  sequence), which keeps the cost at k full-softmax passes per position; positions near the end of a
  window predict fewer real items (the future beyond the window is not in the batch).
- ``oracle_rate`` is constant, not decayed over epochs as in Zhang et al. (the model does not see the
  epoch count); ``oracle_rate = 0`` is pure teacher forcing.
- Only ``rollouts`` prefixes per window are continued and judged (the oracular loss still covers
  every prefix): rolling out k catalogue-wide softmax steps after all ~50 prefixes of a window made an
  adversarial epoch cost six SASRec epochs; 8 per window keep it near three.
- The critic conditions on the generator's (detached) encoding of the history through its own
  layer instead of reading the history with a GRU of its own: the history would otherwise be re-read
  by a GRU at every critic update, which doubled the cost of an adversarial step.
- The generator gets the critic's signal by REINFORCE through sampled discrete items (a critic
  cannot pass gradients through a discrete draw); one draw per prefix per adversarial step, which
  the critic's ``d_steps`` updates all judge (a fresh k-step roll-out for each critic update, as
  SeqGAN and IRGAN here draw fresh single items, would add d_steps catalogue-wide softmax passes
  per step to a step that already costs about twice an MLE step).
- MLE pre-training uses the trainer's loss, as every model of the study; inside the adversarial
  steps the oracular loss uses the full softmax (the policy gradient computes it anyway).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recstudy.models.sequential.base import SequentialRecommender, next_item_loss
from recstudy.models.sequential.gru4rec import GRU4Rec
from recstudy.models.layers import sample_categorical


def following_items(targets: torch.Tensor, k: int) -> torch.Tensor:
    """(B, L, k) tokens of the k items after each input position (targets[t], ..., targets[t + k - 1]; 0 past the window)."""
    padded = torch.cat([targets, targets.new_zeros(targets.shape[0], k - 1)], dim=1)
    return padded.unfold(1, k, 1)


def judged_prefixes(candidates: torch.Tensor, per_row: int) -> torch.Tensor:
    """(B, L) mask of ``per_row`` positions drawn at random (uniformly, without replacement) among each row's
    True ``candidates`` (all of them where a row has fewer)."""
    key = torch.rand(candidates.shape, device=candidates.device).masked_fill(~candidates, -1.0)
    chosen = key.topk(min(per_row, candidates.shape[1]), dim=1)
    return torch.zeros_like(candidates).scatter(1, chosen.indices, chosen.values >= 0)


class Critic(nn.Module):
    """Wasserstein critic of (history, k-item continuation): a GRU reads the continuation from a state made of the
    history's encoding, a linear layer scores its last state."""

    def __init__(self, n_items: int, dim: int) -> None:
        super().__init__()
        self.item_embedding = nn.Embedding(n_items + 1, dim, padding_idx=0)
        self.condition = nn.Linear(dim, dim)
        self.continuation = nn.GRU(dim, dim, batch_first=True)
        self.score = nn.Linear(dim, 1)

    def forward(self, history: torch.Tensor, *continuations: torch.Tensor) -> list[torch.Tensor]:
        """Scores (N,) of each (N, k) token tensor of continuations after histories encoded as ``history`` (N, d)."""
        state = torch.tanh(self.condition(history))[None].contiguous()  # (1, N, d), shared by all continuations
        return [self.score(self.continuation(self.item_embedding(c), state)[1][0]).squeeze(-1) for c in continuations]


class AOS4Rec(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    defaults: dict = {"dim": 64, "dropout": 0.1, "lr": 5e-3}

    def __init__(self, n_items: int, dim: int = 64, dropout: float = 0.2, k: int = 3, oracle_rate: float = 0.25,
                 mle_weight: float = 1.0, clip: float = 0.01, rollouts: int = 8, d_lr: float = 1e-3, g_lr: float = 1e-3,
                 d_steps: int = 3, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        if k < 1 or d_steps < 1 or not 0.0 <= oracle_rate <= 1.0 or clip <= 0 or mle_weight < 0 or rollouts < 1:
            raise ValueError(f"need k >= 1, d_steps >= 1, 0 <= oracle_rate <= 1, clip > 0, mle_weight >= 0, rollouts >= 1; "
                             f"got {k}, {d_steps}, {oracle_rate}, {clip}, {mle_weight}, {rollouts}")
        del self.item_embedding  # the encoder owns the item embedding (shared with the decoder and the output)
        self.encoder = GRU4Rec(n_items, dim, dropout=dropout)
        self.decoder = nn.GRUCell(dim, dim)
        self.critic = Critic(n_items, dim)
        self.k, self.oracle_rate, self.mle_weight, self.clip, self.rollouts = k, oracle_rate, mle_weight, clip, rollouts
        self.d_lr, self.g_lr, self.d_steps = d_lr, g_lr, d_steps
        self._clip_critic()
        self.adversarial_log: list[dict[str, float]] = []  # one entry per adversarial step
        self._optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer] | None = None

    # -- the generator -----------------------------------------------------------------------------------------
    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        return self.encoder.encode(users, inputs)

    def output_weights(self) -> torch.Tensor:
        return self.encoder.output_weights()

    def generator_parameters(self) -> list[nn.Parameter]:
        return list(self.encoder.parameters()) + list(self.decoder.parameters())

    def _feed(self, state: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """The decoder state after reading item ``tokens`` (N,) from ``state`` (N, d)."""
        return self.decoder(self.encoder.dropout(self.encoder.item_embedding(tokens)), state)

    def oracular_loss(self, batch: tuple[torch.Tensor, ...], negatives: int, hidden: torch.Tensor | None = None
                      ) -> torch.Tensor:
        """Next-item loss of the k real items after every prefix, decoder fed real items or (at oracle_rate) oracle
        items; ``hidden`` is the batch's encoding when already computed."""
        users, inputs, targets = batch[:3]
        hidden = self.encode(users, inputs) if hidden is None else hidden
        valid = targets > 0
        future = following_items(targets, self.k)[valid]  # (N, k) tokens
        weights = self.output_weights()
        state, states, labels = hidden[valid], [hidden[valid]], [future[:, 0]]
        for step in range(1, self.k):
            live = future[:, step] > 0  # prefixes whose step-th following item is in the window
            state, future = state[live], future[live]
            fed = future[:, step - 1]
            if self.training and self.oracle_rate > 0:
                oracle = torch.rand(len(fed), device=fed.device) < self.oracle_rate
                if oracle.any():
                    with torch.no_grad():  # Gumbel-max draw from the model's own step - 1 prediction
                        logits = state[oracle] @ weights.T
                        gumbel = -torch.log(-torch.log(torch.rand_like(logits).clamp(1e-10, 1.0 - 1e-7)))
                        fed = fed.masked_scatter(oracle, (logits + gumbel).argmax(-1) + 1)
            state = self._feed(state, fed)
            states.append(state)
            labels.append(future[:, step])
        return next_item_loss(torch.cat(states), torch.cat(labels) - 1, weights, negatives)

    def loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """MLE (oracular seq2seq) pre-training loss, with the loss the trainer chose (``negatives``)."""
        return self.oracular_loss(batch, self.negatives)

    def rollout(self, state: torch.Tensor, *, sample: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode k items from encoder states (N, d): drawn from the softmax (``sample`` None) or the given (N, k)
        tokens fed back; returns the (N, k) tokens and the (N,) sum of their log-probabilities."""
        weights, tokens, log_prob = self.output_weights(), [], 0.0
        for step in range(self.k):
            log_probs = F.log_softmax(state @ weights.T, dim=-1)
            token = (sample_categorical(log_probs.detach().exp()).squeeze(1) + 1) if sample is None else sample[:, step]
            log_prob = log_prob + log_probs.gather(1, (token - 1)[:, None]).squeeze(1)
            tokens.append(token)
            if step + 1 < self.k:
                state = self._feed(state, token)
        return torch.stack(tokens, dim=1), log_prob

    # -- adversarial training ----------------------------------------------------------------------------------
    def _clip_critic(self) -> None:
        with torch.no_grad():
            for p in self.critic.parameters():
                p.clamp_(-self.clip, self.clip)

    def optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        """(generator's Adam, critic's RMSprop as in WGAN), made on first use (the runner sets the rates before)."""
        if self._optimizers is None:
            self._optimizers = (torch.optim.Adam(self.generator_parameters(), lr=self.g_lr),
                                torch.optim.RMSprop(self.critic.parameters(), lr=self.d_lr))
        return self._optimizers

    def adversarial_step(self, batch: tuple[torch.Tensor, ...]) -> float:
        """``d_steps`` critic updates, then one generator update; returns the generator's loss (all logged)."""
        users, inputs, targets = batch[:3]
        g_opt, d_opt = self.optimizers()
        future = following_items(targets, self.k)
        full = future[:, :, -1] > 0  # prefixes with k real following items in the window
        full = judged_prefixes(full, self.rollouts)  # continued by G and judged
        real = future[full]  # (N, k) real continuations
        nan = float("nan")
        critic_loss = distance = accuracy = reward_mean = pg_loss = torch.tensor(nan)
        hidden = self.encode(users, inputs)
        if len(real):  # (a batch of windows all shorter than k + 1 items has nothing to judge: oracular step only)
            fake, log_prob = self.rollout(hidden[full])  # G's draw, with its log-probabilities' graph
            history = hidden[full].detach()  # what the critic conditions on: G's encoding of the history
            for _ in range(self.d_steps):  # the critic judges that draw d_steps times
                critic_real, critic_fake = self.critic(history, real, fake)
                distance = critic_real.mean() - critic_fake.mean()
                critic_loss = -distance
                d_opt.zero_grad()
                critic_loss.backward()
                d_opt.step()
                self._clip_critic()
            with torch.no_grad():  # rewards from the updated critic
                critic_real, reward = self.critic(history, real, fake)
                advantage = (reward - reward.mean()) / (reward.std() + 1e-8) if len(reward) > 1 else torch.zeros_like(reward)
                accuracy = (critic_real > reward).float().mean()  # real continuation scored above the generated one
                reward_mean = reward.mean()
            pg_loss = -(advantage * log_prob).mean()
        if self.mle_weight > 0:
            mle_loss = self.oracular_loss(batch, 0, hidden)
        else:  # logged only
            with torch.no_grad():
                mle_loss = self.oracular_loss(batch, 0, hidden.detach())
        g_loss = mle_loss * self.mle_weight + (pg_loss if len(real) else 0.0)
        if g_loss.requires_grad:  # (nothing to learn from a batch with neither a continuation nor an MLE weight)
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
        self.adversarial_log.append({
            "generator_loss": g_loss.item(), "policy_gradient_loss": pg_loss.item(), "mle_loss": mle_loss.item(),
            "discriminator_loss": critic_loss.item(), "critic_loss": critic_loss.item(),
            "wasserstein_estimate": distance.item(), "discriminator_accuracy": accuracy.item(), "reward": reward_mean.item(),
        })
        return g_loss.item()
