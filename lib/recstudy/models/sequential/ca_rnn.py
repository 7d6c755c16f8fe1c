"""CA-RNN (Liu, Wu, Wang, Li & Wang, "Context-aware Sequential Recommendation", ICDM 2016, arXiv 1609.05787).

The paper replaces the constant input and transition matrices of an RNN by
context-specific ones:

    h_t = f(r_{v_t} M_{c^I_t} + h_{t-1} W_{c^T_t}),  f = sigmoid,

where r_{v_t} is the embedding of the item at step t, c^I_t its *input context* (the
situation the interaction happens in: time of day, weekday, ...) and c^T_t its
*transition context* (the length of the time interval since the previous interaction,
discretised). As we read the paper, the score of item v as the next interaction is the
inner product of h_t with the context-transformed item vector r_v M_{c^I_{t+1}}, i.e. it
uses the input context of the interaction being predicted; training is BPR.

Contexts here, from the timestamps of the inputs (UTC; ML-100K gives no time zone,
mostly US users, so the day parts are shifted by a roughly constant 5-8 hours for all):
- input context = (day of week) x (part of day, ``day_parts`` equal slices of 24 h):
  7 x 4 = 28 matrices M_c by default;
- transition context = the gap to the previous input, in ``INTERVAL_EDGES``
  log-scale buckets (< 1 s i.e. same second, < 1 min, < 10 min, < 1 h, < 6 h, < 1 day,
  < 1 week, < 30 days, longer): 9 matrices W_c. The first real item has no previous one;
  its transition term is zero anyway (the state before it is zero).

Leak-free prediction (departure). The paper scores with the input context of the
*next* interaction, c^I_{t+1}. Here that is the target's own timestamp, which the
evaluation may not reveal (it would leak when the held-out interaction happened).
Only input contexts are used: with ``predict_context=True`` (default) the score takes the
context of the *last input* as a stand-in for the next one (r_v M_{c^I_t} h_t; ML-100K
ratings come in sessions, so the next interaction usually shares the last one's
context); ``predict_context=False`` scores h_t . r_v. Both are computed as a hidden vector
h_t M_{c}^T scored against the tied item embeddings, so full-catalogue scoring stays one
matrix product.

Other departures
- Loss: the shared full-softmax cross-entropy over all items instead of BPR with sampled
  negatives; dropout on item embeddings and hidden states instead of L2 regularisation.
- Every M_c (and every W_c) starts from one shared random matrix plus small noise, so
  that a rarely seen context starts as the common transformation (the paper does not
  say how it initialises them).
- No user embedding, no bias in the recurrence (the equation above has none); the
  history is one sequence per user, cut into the study's windows (the state restarts at
  zero at a window's first item, like every model here); the paper's context choices for
  its own data are replaced by the ML-100K ones above (``day_parts`` tunable).

Vectorised: the input terms r_{v_t} M_{c^I_t} of all positions are computed at once
(positions sorted by context, one product per context matrix); the recurrence is a loop
over the L positions (an RNN needs it), each step one (B, d) x (d, n_intervals*d) product
and a gather of the right interval block. Padding-neutral: the state is zero before the
first real item and is carried unchanged across pads (pads come first, so it stays zero),
and the timestamps of pads are never read.
"""

from __future__ import annotations

import torch
from torch import nn

from recstudy.models.sequential.base import SequentialRecommender

# Upper edges (seconds) of the time-interval buckets: same second, minute, 10 minutes, hour, 6 hours, day, week, month.
INTERVAL_EDGES = (1, 60, 600, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400)


def input_context(times: torch.Tensor, day_parts: int) -> torch.Tensor:
    """(B, L) input-context index: weekday (0 = Monday) x part of the (UTC) day, in [0, 7 * day_parts)."""
    days = torch.div(times, 86400, rounding_mode="floor")
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    part = torch.div(times % 86400, 86400 // day_parts, rounding_mode="floor").clamp(max=day_parts - 1)
    return weekday * day_parts + part


def interval_context(times: torch.Tensor) -> torch.Tensor:
    """(B, L) bucket of the time since the previous position (0 at the first position; pads are masked by the caller)."""
    gap = (times - torch.cat([times[:, :1], times[:, :-1]], dim=1)).clamp(min=0)
    edges = torch.tensor(INTERVAL_EDGES, dtype=times.dtype, device=times.device)
    return torch.bucketize(gap, edges, right=True)


def _context_matrices(count: int, dim: int) -> nn.Parameter:
    shared = torch.randn(dim, dim) * dim**-0.5
    return nn.Parameter(shared + 0.01 * torch.randn(count, dim, dim))


class CARNN(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    defaults: dict = {"dim": 64, "dropout": 0.2, "lr": 5e-3}
    uses_time = True

    def __init__(self, n_items: int, dim: int = 64, dropout: float = 0.2, day_parts: int = 4,
                 predict_context: bool = True, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        if not 1 <= day_parts <= 24:
            raise ValueError(f"day_parts must be between 1 and 24, got {day_parts}")
        self.day_parts, self.predict_context = int(day_parts), predict_context
        self.n_input_contexts, self.n_intervals = 7 * self.day_parts, len(INTERVAL_EDGES) + 1
        self.input_matrices = _context_matrices(self.n_input_contexts, dim)  # M_c, applied as r M_c
        self.transition_matrices = _context_matrices(self.n_intervals, dim)  # W_c, applied as h W_c
        self.dropout = nn.Dropout(dropout)

    def contexts(self, inputs: torch.Tensor, times: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, L) input-context and interval-context indices (0 under pads)."""
        real = inputs > 0
        return (input_context(times, self.day_parts) * real, interval_context(times) * real)

    @staticmethod
    def _per_context(vectors: torch.Tensor, matrices: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """vectors (N, d) times matrices[index] (N, d, d) row-wise.

        The rows are sorted by context and each context's block is multiplied by its matrix
        (a loop over the fixed, small number of contexts), then put back in order: N d^2
        multiply-adds instead of the N d^2 x n_contexts of one product with every matrix.
        """
        index = index.reshape(-1)
        order = index.argsort()
        counts = torch.bincount(index, minlength=matrices.shape[0]).tolist()
        blocks = [block @ matrices[c] for c, block in enumerate(vectors[order].split(counts)) if len(block)]
        return torch.cat(blocks)[order.argsort()]

    def encode(self, users: torch.Tensor, inputs: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        batch, length = inputs.shape
        real = inputs > 0
        c_input, c_interval = self.contexts(inputs, times)
        emb = self.dropout(self.item_embedding(inputs))
        x = self._per_context(emb.reshape(-1, self.dim), self.input_matrices, c_input).view(batch, length, self.dim)
        transitions = self.transition_matrices.permute(1, 0, 2).reshape(self.dim, self.n_intervals * self.dim)
        h = emb.new_zeros(batch, self.dim)
        states = []
        for t in range(length):
            every = (h @ transitions).view(batch, self.n_intervals, self.dim)
            recurrent = every.gather(1, c_interval[:, t].view(-1, 1, 1).expand(-1, 1, self.dim)).squeeze(1)
            h = torch.where(real[:, t, None], torch.sigmoid(x[:, t] + recurrent), h)
            states.append(h)
        hidden = torch.stack(states, dim=1)
        if self.predict_context:  # score r_v M_c h^T = (h M_c^T) . r_v with c the last input's context
            hidden = self._per_context(hidden.reshape(-1, self.dim), self.input_matrices.transpose(1, 2), c_input).view(batch, length, self.dim)
        return self.dropout(hidden * real[..., None])
