"""LoRA merged from a gathered state dict (ZeRO-3 / FSDP), on CPU: the 'sharded' model's own parameters are
emptied as ZeRO-3 leaves them on a rank, the gathering is faked with the full state dict, and the saved checkpoint
must equal PEFT's own merge_and_unload of the unsharded model."""

from __future__ import annotations

import copy

import pytest

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")
transformers = pytest.importorskip("transformers")

from baselines.trainer.lora_merge import merge_lora_state_dict, save_merged  # noqa: E402
from harness.errors import HarnessError  # noqa: E402


def _lora_model(**lora):
    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                      num_attention_heads=2, num_key_value_heads=2, tie_word_embeddings=False)
    base = transformers.LlamaForCausalLM(config)
    model = peft.get_peft_model(base, peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                                      **lora))
    with torch.no_grad():  # lora_B starts at zero: give the adapter something to merge
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_()
    return model


class FakeAccelerator:
    """What accelerate does under ZeRO-3: get_state_dict gathers the full weights (here: the unsharded model's),
    unwrap_model hands back the rank's module, whose parameters are empty shards."""

    def __init__(self, full_state, main=True):
        self.full_state, self.is_main_process, self.gathered = full_state, main, 0

    def get_state_dict(self, model, unwrap=True):
        self.gathered += 1
        return self.full_state

    def unwrap_model(self, model):
        return model


def _sharded(model):
    shard = copy.deepcopy(model)
    for p in shard.parameters():
        p.data = torch.empty(0)  # what a ZeRO-3 rank holds outside a gather
    return shard


def _reference(model):
    return {k: v.clone() for k, v in copy.deepcopy(model).merge_and_unload().state_dict().items()}


@pytest.mark.parametrize("lora", [{}, {"use_rslora": True}, {"modules_to_save": ["lm_head"]}])
def test_the_gathered_merge_equals_peft_merge_and_unload(tmp_path, lora):
    model = _lora_model(**lora)
    full = {k: v.clone() for k, v in model.state_dict().items()}
    accelerator = FakeAccelerator(full)
    assert save_merged(accelerator, _sharded(model), tmp_path / "final") and accelerator.gathered == 1
    saved = transformers.LlamaForCausalLM.from_pretrained(tmp_path / "final").state_dict()
    reference = _reference(model)
    assert set(saved) == set(reference)
    for key, value in reference.items():
        torch.testing.assert_close(saved[key], value, rtol=1e-5, atol=1e-6, msg=key)


def test_merging_the_shards_themselves_is_what_went_wrong(tmp_path):
    model = _lora_model()
    sharded = {k: v for k, v in _sharded(model).state_dict().items()}  # no gather: empty weights
    with pytest.raises(HarnessError, match="gather"):
        merge_lora_state_dict(sharded, model.peft_config["default"])


def test_every_rank_gathers_and_only_the_main_process_saves(tmp_path):
    model = _lora_model()
    accelerator = FakeAccelerator({k: v.clone() for k, v in model.state_dict().items()}, main=False)
    assert not save_merged(accelerator, _sharded(model), tmp_path / "final")
    assert accelerator.gathered == 1 and not (tmp_path / "final").exists()


def test_adapters_that_cannot_be_merged_here_are_refused_in_one_line():
    model = _lora_model()
    with pytest.raises(HarnessError, match="DoRA"):
        merge_lora_state_dict(model.state_dict(), peft.LoraConfig(r=4, lora_alpha=8, use_dora=True))
    with pytest.raises(HarnessError, match="rank_pattern"):
        merge_lora_state_dict(model.state_dict(), peft.LoraConfig(r=4, lora_alpha=8, rank_pattern={"q_proj": 2}))
