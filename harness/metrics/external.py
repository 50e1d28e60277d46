"""The published model-based metrics, as optional extras: RadGraph F1, RaTEScore, BERTScore.

Each is imported lazily and runs only when its package is installed *and* its weights are already on disk; the
harness never downloads weights (the hub is switched to offline mode while they load and score). Otherwise
``unavailable()`` says what was looked for and where, and the metric is reported as not run: never a number it
did not compute.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from pathlib import Path
from typing import Any, Iterator, Sequence


from harness.metrics.base import Metric
from harness.task import ScoredItem, Task


@contextlib.contextmanager
def hub_offline() -> Iterator[None]:
    """Hugging Face libraries read these when they load a model: keep them off the network meanwhile."""
    keys = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")
    old = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: "1" for k in keys})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def hf_cache_dir() -> Path:
    try:
        from huggingface_hub import constants  # noqa: PLC0415

        return Path(constants.HF_HUB_CACHE)
    except ImportError:
        return Path.home() / ".cache" / "huggingface" / "hub"


def hf_model_on_disk(repo_id: str) -> Path | None:
    """The snapshot folder of a hub model already in the local cache, or a local folder given as the id."""
    if Path(repo_id).is_dir():
        return Path(repo_id)
    snapshots = hf_cache_dir() / ("models--" + repo_id.replace("/", "--")) / "snapshots"
    if snapshots.is_dir():
        for snap in sorted(snapshots.iterdir()):
            if any(snap.glob("*.json")) and (any(snap.glob("*.safetensors")) or any(snap.glob("*.bin"))):
                return snap
    return None


def _missing_package(module: str, pip_name: str) -> str | None:
    if importlib.util.find_spec(module) is None:
        return f"not run: package {pip_name} not installed (pip install {pip_name})"
    return None


def _texts(items: Sequence[ScoredItem]) -> tuple[list[str], list[str]]:
    return [it.answer.report or "" for it in items], [it.case.reference_report or "" for it in items]


class _External(Metric):
    """A metric computed by another package, run only when that package and its weights are here."""


class RadGraphF1Metric(_External):
    """RadGraph F1 (radgraph package, Stanford-AIMI): entity/relation graphs of both reports compared."""

    name = "radgraph_f1"
    outputs = ("radgraph_simple", "radgraph_partial", "radgraph_complete")

    def __init__(self, model_type: str = "radgraph-xl", weights_dir: str | Path | None = None):
        self.model_type = model_type
        self.weights_dir = Path(weights_dir) if weights_dir else Path.home() / ".cache" / "radgraph"
        self._scorer = None

    @property
    def variant(self) -> str:  # type: ignore[override]
        return (f"radgraph package F1RadGraph, model {self.model_type}, reward levels simple (entity set), partial "
                "(entity + has-relation), complete (entity + each relation); set F1 per report, mean over reports; "
                "empty report scores 0. Not ReXrank's RadGraph column (mean of entity and relation F1, v1)")

    def _weights(self) -> list[Path]:
        if not self.weights_dir.is_dir():
            return []
        return [p for p in self.weights_dir.rglob(f"*{self.model_type}*")]

    def unavailable(self, task: Task, items: Sequence[ScoredItem]) -> str | None:
        missing = _missing_package("radgraph", "radgraph")
        if missing:
            return missing
        if not self._weights():
            return (f"not run: radgraph weights not found at {self.weights_dir} (looked for '*{self.model_type}*'; "
                    "the harness does not download them: fetch once with the radgraph package online, or pass "
                    "weights_dir)")
        return None

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        cands, refs = _texts(items)
        if self._scorer is None:
            from radgraph import F1RadGraph  # noqa: PLC0415

            with hub_offline():
                self._scorer = F1RadGraph(reward_level="all", model_type=self.model_type,
                                          model_cache_dir=str(self.weights_dir))
        with hub_offline():
            _, rewards, _, _ = self._scorer(hyps=cands, refs=refs)
        rows = []
        for r in rewards:
            simple, partial, complete = (float(x) for x in r)
            rows.append({"radgraph_simple": simple, "radgraph_partial": partial, "radgraph_complete": complete})
        return rows


class RaTEScoreMetric(_External):
    """RaTEScore (the published package: RaTE-NER-DeBERTa entities, BioLORD embeddings, learned weights)."""

    name = "ratescore"
    outputs = ("ratescore",)
    NER_MODEL = "Angelakeke/RaTE-NER-Deberta"
    EMBED_MODEL = "FremyCompany/BioLORD-2023-C"

    def __init__(self, ner_model: str = NER_MODEL, embed_model: str = EMBED_MODEL):
        self.ner_model, self.embed_model = ner_model, embed_model
        self._scorer = None

    @property
    def variant(self) -> str:  # type: ignore[override]
        return (f"RaTEScore package with its default affinity matrix and negation penalty; NER {self.ner_model}, "
                f"embeddings {self.embed_model}; harmonic mean of both directions, 0.5 when a side has no entity")

    def unavailable(self, task: Task, items: Sequence[ScoredItem]) -> str | None:
        missing = _missing_package("RaTEScore", "RaTEScore")
        if missing:
            return missing
        absent = [m for m in (self.ner_model, self.embed_model) if hf_model_on_disk(m) is None]
        if absent:
            return (f"not run: RaTEScore weights not found at {hf_cache_dir()} (looked for "
                    f"{', '.join(absent)}; the harness does not download them)")
        return None

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        cands, refs = _texts(items)
        if self._scorer is None:
            from RaTEScore import RaTEScore  # noqa: PLC0415

            import torch  # noqa: PLC0415

            with hub_offline():
                self._scorer = RaTEScore(bert_model=str(hf_model_on_disk(self.ner_model)),
                                         eval_model=str(hf_model_on_disk(self.embed_model)),
                                         use_gpu=torch.cuda.is_available())
        with hub_offline():
            scores = self._scorer.compute_score(cands, refs)
        return [{"ratescore": float(s)} for s in scores]


class BERTScoreMetric(_External):
    """BERTScore F1 (bert-score package) with a model already on disk."""

    name = "bertscore"
    outputs = ("bertscore_f1",)

    def __init__(self, model_type: str = "roberta-large", num_layers: int = 17, rescale_with_baseline: bool = False):
        self.model_type, self.num_layers, self.rescale = model_type, num_layers, rescale_with_baseline

    @property
    def variant(self) -> str:  # type: ignore[override]
        return (f"bert-score F1, model {self.model_type}, layer {self.num_layers}, idf off, "
                f"baseline rescaling {'on' if self.rescale else 'off'}")

    def _model_path(self) -> Path | None:
        return hf_model_on_disk(self.model_type) or hf_model_on_disk(f"FacebookAI/{self.model_type}")

    def unavailable(self, task: Task, items: Sequence[ScoredItem]) -> str | None:
        missing = _missing_package("bert_score", "bert-score")
        if missing:
            return missing
        if self._model_path() is None:
            return (f"not run: BERTScore weights not found at {hf_cache_dir()} (looked for {self.model_type}; the "
                    "harness does not download them)")
        return None

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        from bert_score import score  # noqa: PLC0415

        cands, refs = _texts(items)
        with hub_offline():
            _, _, f = score(cands, refs, model_type=str(self._model_path()), num_layers=self.num_layers,
                            rescale_with_baseline=self.rescale, lang="en", verbose=False)
        return [{"bertscore_f1": float(x)} for x in f.tolist()]


EXTERNAL_METRICS = (RadGraphF1Metric, RaTEScoreMetric, BERTScoreMetric)

