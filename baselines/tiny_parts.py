"""The parts the tiny checkpoint builders of other families than Qwen share: a byte-level BPE tokenizer with a
family's special tokens, trained on the tiny Qwen's radiology corpus, and random weights drawn from a seed.

:mod:`baselines.zoo.tiny_families` (Gemma 3, LLaVA) and :mod:`baselines.tiny_lamed` (M3D-LaMed) build with
them; :mod:`baselines.tiny_vlm` keeps its own Qwen tokenizer.
"""

from __future__ import annotations

from typing import Any, Callable


def family_tokenizer(specials: tuple[str, ...], **special_roles: Any) -> Any:
    """A byte-level BPE on the tiny Qwen's radiology corpus, ``specials`` first (ids 0..n-1), left padding."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from baselines.tiny_vlm import CORPUS, CORPUS_REPEATS, VOCAB_SIZE

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=list(specials),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(list(CORPUS) * CORPUS_REPEATS, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, padding_side="left", **special_roles)


def seeded(seed: int, make: Callable[[], Any]) -> Any:
    """Random weights from ``seed`` without touching the caller's global RNG state."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make()
