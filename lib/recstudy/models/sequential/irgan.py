"""IRGAN (Wang et al., SIGIR 2017), the item-recommendation setting: a minimax game of two user-item scorers.

Design (as in the paper and the authors' code, geek-ai/irgan ``item_recommendation/``)
- Generator G: a softmax over all items per user, p(i | u) = softmax_i(<q_u, v_i> + b_i),
  with user vectors q, item vectors v and item biases b. It is the recommender that is
  evaluated (:meth:`IRGAN.scores`).
- Discriminator D: a pointwise scorer of the same form with its own parameters; its
  logit f(u, i) = <q'_u, v'_i> + b'_i says "(u, i) is a real interaction".
- D is trained by binary cross-entropy on real (user, item) pairs (label 1) against
  items drawn from G for the same users (label 0). As in the authors' code (``generate_for_d``),
  D's negatives are drawn from G's softmax sharpened by a temperature (0.2 there:
  ``temperature``), one per real pair.
- G is trained by policy gradient with the paper's reward log(1 + exp(f(u, i))) (the authors'
  code uses 2 (sigmoid(f) - 1/2) instead) and the authors' importance sampling: items are drawn
  from p_n = (1 - lambda) p + lambda * (the real items), lambda = 0.2 (``sample_lambda``), two
  draws per real pair as their code draws 2 |positives| per user, and each reward is weighted by
  p / p_n.
- The adversarial step (:meth:`PolicyGradientGAN.adversarial_step`) gives D ``d_steps``
  updates per G update (the authors' code alternates 100 D epochs with 50 G epochs; SeqGAN in
  this study uses 3 D steps per G step, and so does this model by default).

How this study runs it, and how that departs from the paper
- The study's protocol is leave-one-out next-item prediction over each user's time-ordered
  history; IRGAN is not sequential, so it is evaluated on the same targets with a score that
  depends on the user only: :meth:`IRGAN.encode` returns the user's vector at every position and
  ignores the items and their order (trivially causal and padding-neutral). Its training signal is
  the set of the user's training items: the shared next-item loss on the training windows makes
  each target a positive of its user (a softmax over items per user, i.e. G's MLE), which is the
  user -> item objective of the paper's generator; the order of the items plays no part.
- MLE pre-training of G uses the trainer's loss like every other model (full softmax, or
  ``negatives`` sampled items with binary cross-entropy). The authors' code starts G from a matrix
  factorisation trained with dynamic negative sampling, which differs only in the loss.
- In the adversarial steps the "real items" of a batch are its valid targets with their users
  (so a user's real pairs are his training items, each seen once per epoch); importance sampling
  mixes G's distribution with that position's real item rather than with all of the user's items.
- Two safeguards, on by default, that the paper does not have: ``baseline`` subtracts the batch's
  mean (importance-weighted) reward from each reward, the usual variance reduction of REINFORCE (the
  paper's estimator, eq. 5, and the code have none; its rewards log(1 + exp(f)) are all positive), and
  ``mle_weight = 1`` adds G's MLE loss to its adversarial loss, as this study's SeqGAN does. Why: the
  runner trains the adversarial epochs with Adam at the model's learning rate (Adam normalises the
  gradient's scale, so a noisy zero-mean policy gradient moves G as far as a real signal) and keeps
  the best *adversarial* epoch, so a G that drifts from the data is what gets tested. In a check on
  ML-100K (dim 64, lr 5e-3, one adversarial epoch after MLE) the paper's setting (no anchor) took
  RecGAN's validation NDCG@10 from 0.034 to 0.007 (0.004 with the baseline alone), IRGAN's from 0.023
  to 0.020; with the anchor and the baseline they rose (0.040, 0.030; partly the MLE term's own
  further training). ``mle_weight=0,
  baseline=False`` is the paper's setting; the MLE loss is logged in either case, and
  ``policy_gradient_loss`` is the adversarial term alone.
- Adam optimisers (the code uses plain SGD, lr 1e-3), no L2 penalty on the embeddings (the code
  has 0.1 / batch size on D, 0 on G); the runner sets both learning rates to the model's lr.
- An optional dropout on the user vector (default 0; IRGAN has none) so the study's common
  ``dropout`` hyper-parameter means something.

:class:`PolicyGradientGAN` holds the adversarial step and is shared with RecGAN (``recgan.py``),
whose players are recurrent but which trains as IRGAN does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recstudy.models.layers import sample_categorical
from recstudy.models.sequential.base import SequentialRecommender



class PolicyGradientGAN(SequentialRecommender):
    """IRGAN's adversarial training for any pair of players that score (user, history, item).

    Subclasses define :meth:`generator_logits` (G's logits over all items at the valid
    positions), :meth:`discriminator_logits` (D's logits of given items at those positions),
    :meth:`generator_parameters` and :meth:`discriminator_parameters`, and set the attributes
    read below in their constructor (via :meth:`_init_adversarial`).
    """

    def _init_adversarial(self, mle_weight: float, temperature: float, sample_lambda: float, baseline: bool,
                          d_lr: float, g_lr: float, d_steps: int) -> None:
        if d_steps < 1:
            raise ValueError(f"d_steps must be at least 1, got {d_steps}")
        if temperature <= 0 or not 0.0 <= sample_lambda < 1.0 or mle_weight < 0:
            raise ValueError(f"need temperature > 0, 0 <= sample_lambda < 1, mle_weight >= 0; got {temperature}, "
                             f"{sample_lambda}, {mle_weight}")
        self.mle_weight, self.temperature, self.sample_lambda, self.baseline = mle_weight, temperature, sample_lambda, baseline
        self.d_lr, self.g_lr, self.d_steps = d_lr, g_lr, d_steps
        self.adversarial_log: list[dict[str, float]] = []  # one entry per adversarial step
        self._optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer] | None = None

    # -- the players -------------------------------------------------------------------------------------------
    def generator_logits(self, users: torch.Tensor, inputs: torch.Tensor, valid: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        """G's logits at the N positions where ``valid`` (B, L) is True, as (U, n_items) distinct rows and the
        (N,) row of each position (a model whose softmax depends on the user only needs one row per user)."""
        raise NotImplementedError

    def discriminator_logits(self, users: torch.Tensor, inputs: torch.Tensor, valid: torch.Tensor,
                             *items: torch.Tensor) -> list[torch.Tensor]:
        """For each (N,) or (N, S) tensor of item indices, D's logits at the valid positions (same shape)."""
        raise NotImplementedError

    def generator_parameters(self) -> list[nn.Parameter]:
        """The parameters G's optimizer updates: those of the subclass's ``generator`` module."""
        return list(self.generator.parameters())

    def discriminator_parameters(self) -> list[nn.Parameter]:
        """The parameters D's optimizer updates: those of the subclass's ``discriminator`` module."""
        return list(self.discriminator.parameters())

    # -- training ----------------------------------------------------------------------------------------------
    def optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        """(G's, D's) Adam optimisers, made on first use (the runner sets ``g_lr`` and ``d_lr`` before)."""
        if self._optimizers is None:
            self._optimizers = (torch.optim.Adam(self.generator_parameters(), lr=self.g_lr),
                                torch.optim.Adam(self.discriminator_parameters(), lr=self.d_lr))
        return self._optimizers

    def discriminator_loss(self, users: torch.Tensor, inputs: torch.Tensor, valid: torch.Tensor, real: torch.Tensor,
                           fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """D's binary cross-entropy, ``real`` item indices (label 1) vs ``fake`` ones (label 0), and both logits."""
        real_logit, fake_logit = self.discriminator_logits(users, inputs, valid, real, fake)
        loss = F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit)) + \
            F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
        return loss, real_logit, fake_logit

    def adversarial_step(self, batch: tuple[torch.Tensor, ...]) -> float:
        """``d_steps`` D updates, then one G update by IRGAN's policy gradient; returns G's loss (all logged)."""
        users, inputs, targets = batch[:3]
        g_opt, d_opt = self.optimizers()
        valid = targets > 0
        real = targets[valid] - 1  # (N,) item indices of the real pairs
        logits, rows = self.generator_logits(users, inputs, valid)
        log_probs = F.log_softmax(logits, dim=-1)  # (U, n_items), row rows[n] for position n
        probs = log_probs.detach().exp()
        d_probs = F.softmax(log_probs.detach() / self.temperature, dim=-1)  # sharpened, as the code's generate_for_d
        fakes = sample_categorical(d_probs, self.d_steps, rows=rows)  # (N, d_steps): a fresh draw of G's items for each D update
        for fake in fakes.unbind(1):
            d_loss, real_logit, fake_logit = self.discriminator_loss(users, inputs, valid, real, fake)
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()

        # G: importance sampling from p_n = (1 - lambda) p + lambda * [the real item], two draws per real pair
        n_draws = 2
        from_g = sample_categorical(probs, n_draws, rows=rows)  # (N, 2)
        take_real = torch.rand(from_g.shape, device=from_g.device) < self.sample_lambda
        sampled = torch.where(take_real, real[:, None].expand_as(from_g), from_g)
        p = probs[rows[:, None], sampled]
        p_n = (1 - self.sample_lambda) * p + self.sample_lambda * (sampled == real[:, None]).float()
        with torch.no_grad():  # the reward of each draw under the updated D, reweighted by p / p_n
            d_logit, real_logit, fake_logit = self.discriminator_logits(users, inputs, valid, sampled, real, fake)
            reward = F.softplus(d_logit)  # log(1 + exp(f)), the paper's reward
            weight = p / p_n
        weighted = reward * weight
        advantage = weighted - weighted.mean() if self.baseline else weighted
        pg_loss = -(advantage * log_probs[rows[:, None], sampled]).mean()
        mle_loss = -log_probs[rows, real].mean()
        g_loss = pg_loss + self.mle_weight * mle_loss if self.mle_weight > 0 else pg_loss
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        d_accuracy = 0.5 * ((real_logit > 0).float().mean() + (fake_logit < 0).float().mean())
        self.adversarial_log.append({
            "generator_loss": g_loss.item(), "policy_gradient_loss": pg_loss.item(), "mle_loss": mle_loss.item(),
            "discriminator_loss": d_loss.item(), "discriminator_accuracy": d_accuracy.item(),
            "reward": (reward * weight).mean().item(), "raw_reward": reward.mean().item(),
            "importance_weight": weight.mean().item(),
        })
        return g_loss.item()


class MatrixScorer(nn.Module):
    """IRGAN's player: s(u, i) = <q_u, v_i> + b_i (user vectors q, item vectors v, item biases b)."""

    def __init__(self, n_users: int, n_items: int, dim: int) -> None:
        super().__init__()
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)
        self.bias = nn.Parameter(torch.zeros(n_items))
        nn.init.normal_(self.user.weight, std=dim**-0.5)
        nn.init.normal_(self.item.weight, std=dim**-0.5)

    def pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Logits of (users[n], items[n, ...]) for (N,) users and (N,) or (N, S) items."""
        q = self.user(users)
        if items.dim() == 2:
            q = q[:, None, :]
        return (q * self.item(items)).sum(-1) + self.bias[items]


class IRGAN(PolicyGradientGAN):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    defaults: dict = {"dim": 64, "dropout": 0.0, "lr": 5e-3}

    def __init__(self, n_items: int, dim: int = 64, dropout: float = 0.0, mle_weight: float = 1.0,
                 temperature: float = 0.2, sample_lambda: float = 0.2, baseline: bool = True, d_lr: float = 1e-3,
                 g_lr: float = 1e-3, d_steps: int = 3, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        if n_users < 1:
            raise ValueError(f"IRGAN scores users: n_users must be at least 1, got {n_users}")
        del self.item_embedding  # IRGAN reads no item sequence; each player owns its item vectors
        self.generator = MatrixScorer(n_users, n_items, dim)
        self.discriminator = MatrixScorer(n_users, n_items, dim)
        self.dropout = nn.Dropout(dropout)
        self._init_adversarial(mle_weight, temperature, sample_lambda, baseline, d_lr, g_lr, d_steps)

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """The user's generator vector at every position: the items and their order are not read."""
        user = self.dropout(self.generator.user(users.to(inputs.device)))
        return user[:, None, :].expand(-1, inputs.shape[1], -1)

    def output_weights(self) -> torch.Tensor:
        return self.generator.item.weight

    def output_bias(self) -> torch.Tensor:
        return self.generator.bias

    def generator_logits(self, users: torch.Tensor, inputs: torch.Tensor, valid: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        # One softmax per distinct user of the batch, shared by all of that user's positions.
        distinct, index = torch.unique(users, return_inverse=True)
        user = self.dropout(self.generator.user(distinct))
        logits = user @ self.generator.item.weight.T + self.generator.bias  # (U, n_items)
        return logits, index[:, None].expand_as(valid)[valid]

    def discriminator_logits(self, users: torch.Tensor, inputs: torch.Tensor, valid: torch.Tensor,
                             *items: torch.Tensor) -> list[torch.Tensor]:
        position_users = users[:, None].expand_as(valid)[valid]
        return [self.discriminator.pairs(position_users, i) for i in items]
