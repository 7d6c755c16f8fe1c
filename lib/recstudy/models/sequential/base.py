"""What every sequential recommender of the study shares: the next-item loss and full-catalogue scoring.

A model turns a batch of left-padded token sequences (item index + 1, 0 = padding)
into one hidden vector per position (:meth:`SequentialRecommender.encode`). Every model
is padding-neutral: the vector at a real position does not depend on how many pads
precede the history (a test per model checks it). The
hidden vector at position t is scored against every item's output vector to
predict the token at t + 1, so one forward pass trains every position at once.

Models that read time (``uses_time = True``) get the (B, L) timestamps of the input tokens
(0 under pads) as a third argument of :meth:`encode`; training batches are then
(users, inputs, targets, times). Models that read item side information take an
``item_side`` constructor argument (:class:`recstudy.data.side_info.ItemSideInfo`), which
the runner fills from the data. Adversarial models define ``adversarial_step(batch)``
and an ``adversarial_log`` list; the runner runs their adversarial epochs after MLE.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _SoftmaxCrossEntropy(torch.autograd.Function):
    """Mean cross-entropy of ``hidden @ weights.T`` against ``targets``, with a hand-written backward.

    Autograd's ``F.cross_entropy`` keeps the log-softmax, fills a zero (N, n_items) gradient for the
    NLL step and runs the log-softmax backward: several passes over the largest tensor of a training
    step. Here the backward turns the saved log-softmax into the softmax in place and subtracts one at
    the targets (the gradient softmax - one-hot). Same values and gradients (to float rounding; a test
    checks both); measured effect on one training epoch in the README. The saved tensor is overwritten,
    so the graph can be walked back only once.
    """

    @staticmethod
    def forward(ctx, hidden, weights, targets):
        log_probs = torch.log_softmax(hidden @ weights.T, dim=1)
        loss = -log_probs.gather(1, targets[:, None]).mean()
        ctx.save_for_backward(hidden, weights, log_probs, targets)
        return loss

    @staticmethod
    def backward(ctx, grad):
        hidden, weights, log_probs, targets = ctx.saved_tensors
        grad_logits = log_probs.exp_()  # the softmax, in place
        grad_logits[torch.arange(len(targets), device=targets.device), targets] -= 1
        grad_logits.mul_(grad / len(targets))
        return grad_logits @ weights, grad_logits.T @ hidden, None


def _with_bias_column(hidden: torch.Tensor, weights: torch.Tensor, bias: torch.Tensor | None
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """``hidden`` and ``weights`` with a column of ones and the bias appended: ``hidden @ weights.T`` then
    includes the bias, which spares a pass over the (N, n_items) logits (adding it costs a copy of them)."""
    if bias is None:
        return hidden, weights
    return (torch.cat([hidden, hidden.new_ones(len(hidden), 1)], dim=1),
            torch.cat([weights, bias[:, None].to(weights.dtype)], dim=1))


def next_item_loss(hidden: torch.Tensor, targets: torch.Tensor, item_weights: torch.Tensor, negatives: int = 0,
                   item_bias: torch.Tensor | None = None) -> torch.Tensor:
    """Loss of predicting item indices ``targets`` (N,) from ``hidden`` (N, d); ``item_weights`` is (n_items, d).

    ``item_bias`` (n_items,), where a model has one, is added to every item's score.

    ``negatives=0``: cross-entropy over the whole catalogue (a softmax over all
    items). ``negatives>0``: binary cross-entropy of the true item against that many
    uniformly drawn items per position (the cheaper sampled alternative; a drawn
    item may rarely equal the target, which only adds a little noise).
    """
    if negatives < 0:
        raise ValueError(f"negatives must be >= 0, got {negatives}")
    if negatives == 0:
        if len(targets) == 0:  # no positions: the mean of nothing, as F.cross_entropy gives
            return F.cross_entropy(hidden @ item_weights.T, targets)
        return _SoftmaxCrossEntropy.apply(*_with_bias_column(hidden, item_weights, item_bias), targets)
    sampled = torch.randint(0, item_weights.shape[0], (len(targets), negatives), device=targets.device)
    positive = (hidden * item_weights[targets]).sum(-1)
    negative = torch.einsum("nd,nkd->nk", hidden, item_weights[sampled])
    if item_bias is not None:
        positive, negative = positive + item_bias[targets], negative + item_bias[sampled]
    return F.softplus(-positive).mean() + F.softplus(negative).mean()


def generator_softmax(hidden: torch.Tensor, weights: torch.Tensor, targets: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """The adversarial models' generator at N positions: its next-item probabilities (N, n_items), outside the
    graph, to draw items from and to pass to :func:`policy_gradient_update`, and the log-probabilities (N,) of
    the real next items ``targets`` (N,). ``hidden`` (N, d) is the generator's state, ``weights`` (n_items, d)
    its output vectors."""
    with torch.no_grad():
        log_probs = torch.log_softmax(hidden @ weights.T, dim=1)
        target_log_probs = log_probs.gather(1, targets[:, None]).squeeze(1)
        return log_probs.exp_(), target_log_probs  # the softmax in place: no second (N, n_items) tensor


class _PolicyGradientLoss(torch.autograd.Function):
    """The generator's loss (computed by the caller) with a hand-written backward through ``hidden @ weights.T``.

    With advantages a, drawn items s, real next items t and MLE weight w, the loss is
    -(1/N) sum_i [a_i log p_i(s_i) + w log p_i(t_i)]; its gradient in the logits of row i is
    ((a_i + w) p_i - a_i e(s_i) - w e(t_i)) / N. Formed from the saved softmax in place, it spares
    autograd's passes over the (N, n_items) log-softmax (two zero-filled gradients for the gathers, their
    sum, the log-softmax backward): the generator's update 0.6x the time on 5,300 positions x 1,682 items
    (1 thread); an adversarial epoch over ML-100K 0.74-0.87x for SeqGAN, 0.88-0.98x for MFGAN (4 paired
    runs, 2 threads). Same gradients to float rounding (a test checks). ``probs`` is overwritten, so the
    graph can be walked back only once.
    """

    @staticmethod
    def forward(ctx, hidden, weights, probs, sampled, targets, advantage, mle_weight, loss):
        ctx.save_for_backward(hidden, weights, probs, sampled, targets, advantage)
        ctx.mle_weight = mle_weight
        return loss.clone()

    @staticmethod
    def backward(ctx, grad):
        hidden, weights, probs, sampled, targets, advantage = ctx.saved_tensors
        scale = grad / max(len(targets), 1)
        grad_logits = probs.mul_(((advantage + ctx.mle_weight) * scale)[:, None])
        rows = torch.arange(len(targets), device=targets.device)
        # accumulate: a drawn item may be the real one
        grad_logits.index_put_((torch.cat([rows, rows]), torch.cat([sampled, targets])),
                               torch.cat([-advantage * scale, (-ctx.mle_weight * scale).expand(len(targets))]),
                               accumulate=True)
        return grad_logits @ weights, grad_logits.T @ hidden, None, None, None, None, None, None


def policy_gradient_update(optimizer: torch.optim.Optimizer, hidden: torch.Tensor, weights: torch.Tensor,
                           probs: torch.Tensor, target_log_probs: torch.Tensor, sampled: torch.Tensor,
                           reward: torch.Tensor, targets: torch.Tensor, mle_weight: float
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One generator update of the adversarial models: REINFORCE with the batch-mean reward as baseline, plus
    ``mle_weight`` times the maximum-likelihood loss that keeps the generator anchored to the data.

    ``hidden`` (N, d) and ``weights`` (n_items, d) are the generator's state at N positions and its output
    vectors (in the graph); ``probs`` and ``target_log_probs`` what :func:`generator_softmax` gave for them
    (``probs`` is used up); ``sampled`` (N,) the items the generator drew there, ``reward`` (N,) the
    discriminator's reward of each draw and ``targets`` (N,) the real next items.
    Returns (generator loss, policy-gradient loss, MLE loss).
    """
    advantage = (reward - reward.mean()).detach()
    with torch.no_grad():
        # a drawn item had a positive probability, so its log is finite
        pg_loss = -(advantage * probs.gather(1, sampled[:, None]).squeeze(1).log()).mean()
        mle_loss = -target_log_probs.mean()
    g_loss = _PolicyGradientLoss.apply(hidden, weights, probs, sampled, targets, advantage, mle_weight,
                                       pg_loss + mle_weight * mle_loss)
    optimizer.zero_grad()
    g_loss.backward()
    optimizer.step()
    return g_loss.detach(), pg_loss, mle_loss


class SequentialRecommender(nn.Module):
    """Base class: subclasses define :meth:`encode` and may override :meth:`output_weights`."""

    uses_time: bool = False  # True: encode(users, inputs, times) reads the timestamps of the inputs

    def __init__(self, n_items: int, dim: int, n_users: int = 0) -> None:
        super().__init__()
        if n_items < 1 or dim < 1:
            raise ValueError(f"n_items and dim must be positive, got n_items={n_items}, dim={dim}")
        self.n_items, self.dim, self.n_users = n_items, dim, n_users
        self.negatives = 0  # 0 = full-softmax cross-entropy; set by the trainer
        # token 0 is padding; tokens 1..n_items are the items
        self.item_embedding = nn.Embedding(n_items + 1, dim, padding_idx=0)
        nn.init.normal_(self.item_embedding.weight[1:], std=dim**-0.5)

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:  # (B, L) -> (B, L, d)
        raise NotImplementedError

    def output_weights(self) -> torch.Tensor:
        """(n_items, d) output vector of every item; by default tied to the input embedding."""
        return self.item_embedding.weight[1 : self.n_items + 1]

    def output_bias(self) -> torch.Tensor | None:
        """(n_items,) per-item output bias, for the models whose paper has one; None otherwise."""
        return None

    def hidden_states(self, users: torch.Tensor, inputs: torch.Tensor, times: torch.Tensor | None = None) -> torch.Tensor:
        """:meth:`encode`, given the timestamps when the model reads time."""
        if not self.uses_time:
            return self.encode(users, inputs)
        if times is None:
            raise ValueError(f"{type(self).__name__} reads time: pass the timestamps of the inputs")
        return self.encode(users, inputs, times)

    def loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        users, inputs, targets, *times = batch
        hidden = self.hidden_states(users, inputs, *times)
        valid = targets > 0
        return next_item_loss(hidden[valid], targets[valid] - 1, self.output_weights(), self.negatives, self.output_bias())

    def scores(self, users: torch.Tensor, inputs: torch.Tensor, times: torch.Tensor | None = None) -> torch.Tensor:
        """(B, n_items) score of every item as the next one after each input sequence."""
        last = self.hidden_states(users, inputs, times)[:, -1]
        bias = self.output_bias()
        return last @ self.output_weights().T if bias is None else torch.addmm(bias, last, self.output_weights().T)

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
