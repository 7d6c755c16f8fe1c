"""3D-CNN (Tuan & Phuong, RecSys 2017, "3D Convolutional Networks for Session-based Recommendation with Content Features").

The paper encodes the content of every clicked item (id, category, description) at the
character level, stacks the items of a session into a 3-D input (session position x
content position x character encoding), reads it with 3-D convolutions and max pooling,
and predicts through fully connected layers and a softmax over the items.

Here each item i is a content "image" X_i of T positions x C channels, the concatenation
along the content axis of
  1. its id: a learned id embedding of size ``dim`` cut into ``dim / C`` positions of C
     channels (the paper encodes the id as text like everything else; a learned id code
     keeps the collaborative signal that the other models of the study get),
  2. its genres: one position, the sum of a learned C-vector per genre of the item (the
     paper's "category", as a genre code instead of the category name's characters),
  3. its title: ``title_chars`` characters (lower-cased, accents stripped, truncated or
     zero-padded), each a learned C-dimensional character embedding over a fixed alphabet
     (the 68 distinct characters of Zhang et al.'s character-level CNN and the space, plus
     an "unknown" and an empty slot), i.e. one-hot characters times a learned 71 x C matrix.
The character indices and genre indicators of all items are buffers built once at
construction; each forward pass builds the (n_items + 1, T, C) content table once from
them and the current weights (one row per item, cheap) and gathers it per input token,
giving the 3-D input (B, L, T, C). Two 3-D convolution layers follow, each with kernels of
``time_kernel`` sequence positions x 3 content positions x all channels (a kernel spanning
the whole channel axis, which PyTorch computes as a Conv2d over (sequence, content) with C
input channels), ReLU, and stride 2 along the content axis; then max pooling over the
content axis.

Causal and padding-neutral: the time extent of each kernel reaches only back
(``time_kernel - 1`` positions of left zero padding), so position t sees positions <= t.
Pad tokens have an all-zero content image (id row 0, no genre, no characters), and the
output of every layer is set back to zero at pad positions (a conv's bias would fill them
otherwise), so a kernel reaching before the history's start reads zeros however many pads
precede the history.

Departures from the paper, and why
- Every position predicts its next item in one pass (the paper predicts a session's
  target from the whole session): the features at t are the conv features of the window
  ending at t (receptive field 2 * (time_kernel - 1) + 1 items) concatenated with their
  running maximum over all positions <= t (max pooling over the session so far). The
  window feature keeps the order of the latest items, which next-item prediction needs.
- Content: titles and genres stand in for the paper's descriptions and categories
  (MovieLens has none); the id is a learned code rather than its characters (above).
- Output: a separate output vector and bias per item (a softmax layer, not tied to the
  content encoder) scored against one fully connected layer (ReLU) over the pooled
  features. Full-softmax cross-entropy by default (``negatives`` for the sampled loss).
- Size: two conv layers of ``filters`` kernels with a content stride of 2 in place of
  pooling between layers, and learned character embeddings instead of raw one-hot input;
  the paper's layer sizes are not reproduced. Chosen so that an ML-100K epoch stays within
  the study's time budget on one CPU thread.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from recstudy.data.side_info import ItemSideInfo
from recstudy.models.sequential.base import SequentialRecommender

# Zhang, Zhao & LeCun (2015)'s alphabet for character-level CNNs (68 distinct characters), the space instead of its newline.
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-,;.!?:'\"/\\|_@#$%^&*~`+=<>()[]{} "
PAD_CHAR, UNKNOWN_CHAR = 0, 1  # character index 0: no character; 1: a character outside the alphabet


def encode_titles(titles: tuple[str, ...] | list[str], length: int) -> np.ndarray:
    """(n, length) character indices of ``titles``: lower-cased, accents removed, cut or zero-padded to ``length``."""
    plain = (pd.Series(list(titles), dtype=object).astype(str).str.lower().str.normalize("NFKD")
             .str.replace(r"[\u0300-\u036f]", "", regex=True).str.slice(0, length))
    points = np.array(plain.tolist() + [""], dtype=f"<U{length}").view(np.uint32).reshape(-1, length)[:-1].astype(np.int64)
    alphabet = np.array([ord(c) for c in ALPHABET])
    order = np.argsort(alphabet)
    at = np.searchsorted(alphabet[order], points).clip(max=len(ALPHABET) - 1)
    known = alphabet[order][at] == points
    return np.where(points == 0, PAD_CHAR, np.where(known, order[at] + 2, UNKNOWN_CHAR)).astype(np.int64)


class CNN3D(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    defaults: dict = {"dim": 64, "dropout": 0.2, "lr": 1e-3, "filters": 32}

    def __init__(self, n_items: int, item_side: ItemSideInfo, dim: int = 64, filters: int = 32, char_dim: int = 16,
                 title_chars: int = 32, time_kernel: int = 3, dropout: float = 0.2, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        if len(item_side.titles) != n_items:
            raise ValueError(f"item_side has {len(item_side.titles)} rows for {n_items} items: align it with the item indices")
        if char_dim < 1 or dim % char_dim:
            raise ValueError(f"dim ({dim}) must be a multiple of char_dim ({char_dim})")
        if filters < 1 or title_chars < 1 or time_kernel < 1:
            raise ValueError(f"need filters, title_chars and time_kernel >= 1, got {filters}, {title_chars}, {time_kernel}")
        self.char_dim, self.time_kernel, self.filters = char_dim, time_kernel, filters
        # Row 0 (the pad token) has no characters and no genre, so its content image is all zeros.
        chars = np.zeros((n_items + 1, title_chars), dtype=np.int64)
        chars[1:] = encode_titles(item_side.titles, title_chars)
        genres = np.zeros((n_items + 1, item_side.genres.shape[1]), dtype=np.float32)
        genres[1:] = item_side.genres
        self.register_buffer("title_codes", torch.from_numpy(chars))
        self.register_buffer("genre_flags", torch.from_numpy(genres))
        self.char_embedding = nn.Embedding(len(ALPHABET) + 2, char_dim, padding_idx=PAD_CHAR)
        self.genre_codes = nn.Linear(genres.shape[1], char_dim, bias=False)
        # one scale for every content position: id codes, genre code and characters start at std C^-1/2
        for weight in (self.item_embedding.weight, self.char_embedding.weight):
            nn.init.normal_(weight[1:].data, std=char_dim**-0.5)
        nn.init.normal_(self.genre_codes.weight, std=char_dim**-0.5)
        self.content_length = dim // char_dim + 1 + title_chars  # id positions, genre position, characters
        self.conv1 = nn.Conv2d(char_dim, filters, (time_kernel, 3), stride=(1, 2))
        self.conv2 = nn.Conv2d(filters, filters, (time_kernel, 3), stride=(1, 2))
        self.fc = nn.Linear(2 * filters, dim)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Parameter(torch.randn(n_items, dim) * dim**-0.5)  # the softmax layer's item vectors
        self.bias = nn.Parameter(torch.zeros(n_items))

    def output_weights(self) -> torch.Tensor:
        return self.output

    def output_bias(self) -> torch.Tensor:
        return self.bias

    def content_table(self) -> torch.Tensor:
        """(n_items + 1, T, C) content image of every token (row 0, the pad, is all zeros)."""
        ids = self.item_embedding.weight.view(self.n_items + 1, -1, self.char_dim)
        genre = self.genre_codes(self.genre_flags)[:, None, :]
        return torch.cat([ids, genre, self.char_embedding(self.title_codes)], dim=1)

    def _conv(self, conv: nn.Conv2d, x: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """Causal in time (left zero padding), "same" zero padding along content; zero again at pad positions."""
        return F.relu(conv(F.pad(x, (1, 1, self.time_kernel - 1, 0)))) * real

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        batch, length = inputs.shape
        table = self.content_table()
        x = F.embedding(inputs, table.reshape(self.n_items + 1, -1))  # (B, L, T*C) gathered per token
        x = x.view(batch, length, self.content_length, self.char_dim).permute(0, 3, 1, 2)  # (B, C, L, T)
        real = (inputs > 0)[:, None, :, None].to(x.dtype)
        h = self._conv(self.conv2, self._conv(self.conv1, x, real), real)  # (B, F, L, T')
        local = h.amax(dim=3).transpose(1, 2)  # (B, L, F): max over the content axis
        session = local.cummax(dim=1).values  # max over positions <= t (pads are 0, features >= 0)
        return F.relu(self.fc(self.dropout(torch.cat([local, session], dim=2))))
