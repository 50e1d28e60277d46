"""Tiny random-weight checkpoints of the zoo's non-Qwen architecture families, built offline.

The zoo's tests run every card's prompt adapter through the transformers backend on a checkpoint of the
card's architecture, so that a card cannot ship with a prompt its model's chat template rejects. For the
Qwen-VL families :mod:`baselines.tiny_vlm` builds that checkpoint; this module adds Gemma 3 (MedGemma's
architecture) and LLaVA (LLaVA-Med's, once converted to the llava-hf layout), each with:

- a byte-level BPE tokenizer trained here on the same radiology text as the tiny Qwen (any string encodes),
  with the family's own special tokens (Gemma's ``<start_of_turn>`` / ``<start_of_image>`` /
  ``<image_soft_token>``, LLaVA's ``<image>``);
- the family's real processor class (``Gemma3Processor``, ``LlavaProcessor``) sized for a 32-pixel image;
- the family's chat template: Gemma 3's original template as TRL ships it (``chat_templates/gemma3.jinja``),
  and for LLaVA the llava-1.5 conversation format written out below (``USER: <image>\\n... ASSISTANT:``,
  images before the text as llava-hf's template renders them), since TRL ships none for LLaVA-1.5.

Nothing is downloaded; the same family and seed write byte-identical files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from baselines.tiny_parts import family_tokenizer, seeded
from baselines.tiny_vlm import import_transformers as _import_transformers
from harness.errors import HarnessError

#: the llava-1.5 conversation format (system text, then ``USER: <image>\n... ASSISTANT:``), images first as
#: llava-hf renders them; string or list content, any number of turns
LLAVA_CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['content'] is string -%}"
    "{%- set parts = [{'type': 'text', 'text': message['content']}] -%}"
    "{%- else -%}{%- set parts = message['content'] -%}{%- endif -%}"
    "{%- set text = parts | selectattr('type', 'equalto', 'text') | map(attribute='text') | join(' ') -%}"
    "{%- if message['role'] == 'system' -%}{{ text + '\n' }}"
    "{%- elif message['role'] in ('user', 'assistant') -%}"
    "{{ message['role'].upper() + ': ' }}"
    "{%- for part in parts | selectattr('type', 'equalto', 'image') -%}{{ '<image>\n' }}{%- endfor -%}"
    "{{ text }}{%- if message['role'] == 'assistant' -%}{{ eos_token }}{%- endif -%}{{ '\n' }}"
    "{%- else -%}{{ raise_exception('Only system, user and assistant roles are supported') }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ 'ASSISTANT:' }}{%- endif -%}"
)

GEMMA3_SPECIALS = ("<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>", "<start_of_image>",
                   "<end_of_image>", "<image_soft_token>")
LLAVA_SPECIALS = ("<unk>", "<s>", "</s>", "<pad>", "<image>")
IMAGE_SIZE = 32  # pixels per side the tiny vision towers see
PATCH_SIZE = 8  # -> 4 x 4 patches per image


def build_tiny_family(out_dir: str | Path, family: str, seed: int = 0, chat_template: str | None = None) -> Path:
    """A tiny checkpoint of ``family`` (``qwen2_vl``, ``qwen2_5_vl``, ``qwen3_vl``, ``gemma3``, ``llava``, or
    ``lamed``: M3D-LaMed's volume-input architecture, see :mod:`baselines.tiny_lamed`).

    ``chat_template`` replaces the family's template (Gemma 3 and LLaVA only), e.g. to check a card against
    the template a converted checkpoint will carry.
    """
    from baselines.tiny_vlm import FAMILIES as QWEN_FAMILIES, build_tiny_vlm

    if family in QWEN_FAMILIES:
        if chat_template is not None:
            raise HarnessError(f"the tiny {family} always carries Qwen's own chat template")
        return build_tiny_vlm(out_dir, family, seed=seed)
    if family == "lamed":
        if chat_template is not None:
            raise HarnessError("the tiny lamed has no chat template: M3D-LaMed's prompt is image tokens + text")
        from baselines.tiny_lamed import build_tiny_lamed

        return build_tiny_lamed(out_dir, seed=seed)
    if family not in BUILDERS:
        raise HarnessError(f"no tiny builder for family '{family}'; known: "
                           f"{', '.join(sorted(set(QWEN_FAMILIES) | set(BUILDERS) | {'lamed'}))}")
    transformers = _import_transformers()
    out = Path(out_dir)
    model, processor = BUILDERS[family](transformers, seed)
    if chat_template is not None:
        processor.chat_template = chat_template
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def tiny_families() -> tuple[str, ...]:
    """Every family a tiny checkpoint can be built for."""
    from baselines.tiny_vlm import FAMILIES as QWEN_FAMILIES

    return tuple(QWEN_FAMILIES) + tuple(BUILDERS) + ("lamed",)


def _text_config(tokenizer: Any, bos: str, eos: str, pad: str, **extra: Any) -> dict[str, Any]:
    ids = tokenizer.convert_tokens_to_ids
    return dict(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                bos_token_id=ids(bos), eos_token_id=ids(eos), pad_token_id=ids(pad), **extra)


def _vision_config() -> dict[str, Any]:
    return dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                image_size=IMAGE_SIZE, patch_size=PATCH_SIZE)


def _gemma3(transformers: Any, seed: int) -> tuple[Any, Any]:
    """Gemma 3: SigLIP tower, 4 soft tokens per image (2 x 2 average-pooled patches), Gemma's chat template."""
    tokenizer = family_tokenizer(GEMMA3_SPECIALS, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
                                 unk_token="<unk>", extra_special_tokens={
                                     "boi_token": "<start_of_image>", "eoi_token": "<end_of_image>",
                                     "image_token": "<image_soft_token>"})
    ids = tokenizer.convert_tokens_to_ids
    tokens_per_image = 4
    image_processor = transformers.Gemma3ImageProcessor(
        size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}, image_mean=[0.5] * 3, image_std=[0.5] * 3,
        do_pan_and_scan=False)
    processor = transformers.Gemma3Processor(image_processor=image_processor, tokenizer=tokenizer,
                                             chat_template=trl_template("gemma3.jinja"),
                                             image_seq_length=tokens_per_image)
    text = _text_config(tokenizer, "<bos>", "<eos>", "<pad>", head_dim=16, sliding_window=64)
    config = transformers.Gemma3Config(
        text_config=text, vision_config=_vision_config(), mm_tokens_per_image=tokens_per_image,
        boi_token_index=ids("<start_of_image>"), eoi_token_index=ids("<end_of_image>"),
        image_token_index=ids("<image_soft_token>"))
    model = seeded(seed, lambda: transformers.Gemma3ForConditionalGeneration(config))
    model.generation_config.pad_token_id = ids("<pad>")
    model.generation_config.eos_token_id = [ids("<eos>"), ids("<end_of_turn>")]  # as Gemma 3 -it checkpoints
    return model, processor


def _llava(transformers: Any, seed: int) -> tuple[Any, Any]:
    """LLaVA-1.5 layout: CLIP tower (CLS dropped: 16 tokens per image), two-layer projector, Llama text model."""
    tokenizer = family_tokenizer(LLAVA_SPECIALS, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                 unk_token="<unk>", extra_special_tokens={"image_token": "<image>"})
    ids = tokenizer.convert_tokens_to_ids
    image_processor = transformers.CLIPImageProcessor(
        size={"shortest_edge": IMAGE_SIZE}, crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        image_mean=[0.5] * 3, image_std=[0.5] * 3)
    processor = transformers.LlavaProcessor(
        image_processor=image_processor, tokenizer=tokenizer, patch_size=PATCH_SIZE,
        vision_feature_select_strategy="default", num_additional_image_tokens=1, image_token="<image>",
        chat_template=LLAVA_CHAT_TEMPLATE)
    text = {"model_type": "llama", **_text_config(tokenizer, "<s>", "</s>", "<pad>")}
    vision = {"model_type": "clip_vision_model", **_vision_config(), "projection_dim": 32}
    config = transformers.LlavaConfig(vision_config=vision, text_config=text, image_token_index=ids("<image>"),
                                      vision_feature_layer=-2, vision_feature_select_strategy="default",
                                      projector_hidden_act="gelu")
    model = seeded(seed, lambda: transformers.LlavaForConditionalGeneration(config))
    model.generation_config.pad_token_id = ids("<pad>")
    model.generation_config.eos_token_id = ids("</s>")
    return model, processor


def trl_template(name: str) -> str:
    """A chat template TRL ships (``chat_templates/NAME``): the original templates of many model families."""
    try:
        import trl
    except ImportError as exc:
        raise HarnessError("building a tiny VLM needs TRL's chat templates: pip install 'emrl-harness[train]'"
                           ) from exc
    return (Path(trl.__file__).parent / "chat_templates" / name).read_text()


BUILDERS: dict[str, Callable[[Any, int], tuple[Any, Any]]] = {"gemma3": _gemma3, "llava": _llava}
