"""Paper B's sequential recommenders, one per file, on the shared base in :mod:`.base`."""

from recstudy.models.sequential.bert4rec import BERT4Rec
from recstudy.models.sequential.caser import Caser
from recstudy.models.sequential.gru4rec import GRU4Rec
from recstudy.models.sequential.nextitnet import NextItNet
from recstudy.models.sequential.sasrec import SASRec
from recstudy.models.sequential.seqgan import SeqGAN

__all__ = ["BERT4Rec", "Caser", "GRU4Rec", "NextItNet", "SASRec", "SeqGAN"]
