"""Which conclusions of both papers hold on two domains: a collation of the verdicts the notebooks recorded.

The summary does not re-test anything. Each notebook already decides its claims with
its own paired test or rule and records the verdict in its metrics file (04: OCF-B
against uniform negatives, paired over seeds with Holm; 10: every model against the
Markov chain, paired over users, and Paper B's Table 2 rules; 12: incremental update
against a full retrain). This module reads those verdicts for each domain, sorts each
into an outcome, and says per claim whether it holds on both domains, fails on both,
goes different ways, or could not be tested on one of them (and why).

Outcomes: ``yes`` (higher / better / supported), ``no`` (lower / worse / not
supported), ``equivalent`` (within the notebook's equivalence margin), ``undecided``
(neither; also a family whose members disagree, "mixed"), ``not tested`` (the notebook says the setting cannot decide, e.g. runs that
stopped at their epoch cap) and ``missing`` (the domain's reports lack the claim).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

OUTCOMES = ("yes", "no", "equivalent", "undecided", "not tested", "missing")


def outcome(verdict: Any) -> str:
    """The outcome of one recorded verdict string (see the module docstring)."""
    if verdict is None or (isinstance(verdict, float) and verdict != verdict):
        return "missing"
    text = str(verdict).strip().lower()
    for prefix, result in (("not supported", "no"), ("not test", "not tested"), ("supported", "yes"), ("higher", "yes"),
                           ("better", "yes"), ("lower", "no"), ("worse", "no"), ("equivalent", "equivalent"),
                           ("undecided", "undecided"), ("unclear", "undecided"),
                           ("mixed", "undecided")):
        if text.startswith(prefix):
            return result
    raise ValueError(f"unrecognised verdict {verdict!r}")


def across(first: str, second: str) -> str:
    """What two domains' outcomes of one claim say together."""
    untested = ("undecided", "not tested", "missing")
    if first in untested and second in untested:
        return "not decided on either"
    if first in untested or second in untested:
        return "decided on one domain only"
    if first == second:
        return {"yes": "holds on both", "no": "fails on both", "equivalent": "no difference on both"}[first]
    return "differs between domains"


@dataclass(frozen=True)
class Domain:
    """One domain's reports: a label for the table, the folder of its reports, and its data set's key in 04."""

    label: str
    reports: Path
    dataset: str  # the name 04 uses in its metric keys (e.g. "ml-100k", "amazon-video")

    def metrics(self, notebook: str) -> dict[str, Any]:
        """The metrics file of ``notebook`` in this domain's reports ({} when absent or skipped there)."""
        path = self.reports / f"{notebook}.metrics.json"
        if not path.is_file():
            return {}
        metrics = json.loads(path.read_text())
        return {} if "_skipped" in metrics else metrics


def domain_claims(domain: Domain) -> dict[tuple[str, str], Any]:
    """{(source, claim): recorded verdict} of one domain."""
    claims: dict[tuple[str, str], Any] = {}
    comparison = domain.metrics("04_comparison")
    prefix = f"ocfb_{domain.dataset}_"
    for key, value in comparison.items():  # per protocol and model: OCF-B against uniform negatives
        if key.startswith(prefix) and key.endswith("_verdict"):
            protocol_model = key[len(prefix):-len("_verdict")]
            claims[("Paper A (04)", f"OCF-B beats uniform negatives: {protocol_model}")] = value
    sequential = domain.metrics("10_sequential_comparison")
    for key, value in sequential.items():
        if key.endswith("_vs_MarkovChain_verdict"):
            claims[("Paper B (10)", f"{key[:-len('_vs_MarkovChain_verdict')]} beats the Markov chain")] = value
        elif key.startswith("verdict: "):
            claims[("Paper B Table 2 (10)", key[len("verdict: "):])] = value
    evolving = domain.metrics("12_evolving")
    for key, claim in (("evolving_incremental_vs_full_retrain_verdict", "an incremental update matches a full retrain"),
                       ("evolving_no_update_vs_full_retrain_verdict", "not updating beats a full retrain"),
                       ("evolving_full_retrain_vs_most_popular_verdict", "a retrained model beats most-popular")):
        if key in evolving:
            value = evolving[key]
            if key.startswith("evolving_incremental"):  # the claim is "matches": equivalent is its yes
                value = {"equivalent": "supported", "higher": "not supported", "lower": "not supported"}.get(value, value)
            claims[("Evolving (12)", claim)] = value
    return claims


def cross_domain_table(first: Domain, second: Domain) -> pd.DataFrame:
    """One row per claim recorded on either domain: each domain's verdict and outcome, and what they say together."""
    a, b = domain_claims(first), domain_claims(second)
    rows = []
    for source, claim in sorted(set(a) | set(b), key=lambda sc: (sc[0], sc[1])):
        va, vb = a.get((source, claim)), b.get((source, claim))
        oa, ob = outcome(va), outcome(vb)
        rows.append({"source": source, "claim": claim, f"{first.label}": "" if va is None else str(va),
                     f"{first.label} outcome": oa, f"{second.label}": "" if vb is None else str(vb),
                     f"{second.label} outcome": ob, "across domains": across(oa, ob)})
    return pd.DataFrame(rows, columns=["source", "claim", first.label, f"{first.label} outcome", second.label,
                                       f"{second.label} outcome", "across domains"])


def best_methods(domain: Domain, notebook: str = "04_comparison") -> pd.DataFrame:
    """Per protocol, the method with the highest mean NDCG@10 in 04 and its interval (descriptive, not a test)."""
    metrics = domain.metrics(notebook)
    prefix, rows = f"{domain.dataset}_", []
    means = {k[len(prefix):-len("_NDCG@10")]: v for k, v in metrics.items()
             if k.startswith(prefix) and k.endswith("_NDCG@10") and not k.endswith("best_NDCG@10")}
    protocols = sorted({k.split("_", 1)[0] for k in means})
    for protocol in protocols:
        scores = {k.split("_", 1)[1]: v for k, v in means.items() if k.startswith(protocol + "_")}
        if not scores:
            continue
        order = sorted(scores, key=scores.get, reverse=True)
        best, runner = order[0], order[1] if len(order) > 1 else None
        lo = metrics.get(f"{prefix}{protocol}_{best}_NDCG@10_lo")
        rows.append({"domain": domain.label, "protocol": protocol, "best method": best, "NDCG@10": scores[best],
                     "95% interval": f"{lo} to {metrics.get(f'{prefix}{protocol}_{best}_NDCG@10_hi')}",
                     "runner-up": runner, "runner-up NDCG@10": scores.get(runner) if runner else None})
    return pd.DataFrame(rows)


def best_sequential(domain: Domain) -> pd.DataFrame:
    """The sequential models of 10 by mean test NDCG@10 on this domain (descriptive)."""
    metrics = domain.metrics("10_sequential_comparison")
    rows = [{"domain": domain.label, "model": k[: -len("_test_NDCG@10")], "test NDCG@10": v}
            for k, v in metrics.items() if k.endswith("_test_NDCG@10") and "(" not in k]
    return pd.DataFrame(rows).sort_values("test NDCG@10", ascending=False) if rows else pd.DataFrame(rows)
