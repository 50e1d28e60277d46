"""A tiny random-weight M3D-LaMed checkpoint, built offline, that loads the way the released one does.

The released ``GoodBaiBai88/M3D-LaMed-Phi-3-4B`` is a directory with a ``config.json`` whose ``auto_map`` names
its own modeling code, loaded with ``AutoModelForCausalLM.from_pretrained(..., trust_remote_code=True)``, and a
Phi-3 tokenizer with M3D's added tokens (``<im_patch>``, ``<bx_start>``, ``<bx_end>``, ``[SEG]``). This builds
the same layout at test size: :mod:`baselines.lamed_replica` is copied in as the remote code, the config has
M3D's vision fields (the real 1 x 32 x 256 x 256 input grid, 4 x 16 x 16 patches, 2 x 2 x 2 spatial pooling:
256 image tokens) with a 32-wide one-layer ViT and a 64-wide two-layer Phi-3, and the tokenizer is the tiny
models' byte-level BPE (trained here on radiology text) with M3D's tokens and a BOS token in front of every
prompt, as Phi-3's tokenizer adds. About 0.3M parameters; the same seed writes byte-identical files.

    >>> build_tiny_lamed("runs/tiny_lamed")        # doctest: +SKIP
    PosixPath('runs/tiny_lamed')
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

SPECIALS = ("<unk>", "<s>", "<|endoftext|>", "<im_patch>", "<bx_start>", "<bx_end>", "[SEG]")
IMAGE_SIZE = (32, 256, 256)  # M3D-LaMed's input grid (depth, height, width)
PATCH_SIZE = (4, 16, 16)
REMOTE_CODE = "modeling_lamed.py"


def build_tiny_lamed(out_dir: str | Path, seed: int = 0) -> Path:
    """Write the tiny checkpoint to ``out_dir`` and return the directory."""
    from baselines.tiny_vlm import import_transformers
    from baselines.tiny_parts import family_tokenizer, seeded

    import_transformers()
    from tokenizers import processors

    from baselines import lamed_replica

    out = Path(out_dir)
    tokenizer = family_tokenizer(SPECIALS, bos_token="<s>", eos_token="<|endoftext|>", pad_token="<unk>",
                                 unk_token="<unk>")
    ids = tokenizer.convert_tokens_to_ids
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", ids("<s>"))])
    tokenizer.padding_side = "right"  # as M3D loads it; the backend never pads a volume prompt
    config = lamed_replica.LamedPhi3Config(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        bos_token_id=ids("<s>"), eos_token_id=ids("<|endoftext|>"), pad_token_id=ids("<unk>"),
        # M3D's vision fields, as LamedMetaModel.initialize_vision_modules writes them into the config
        image_channel=1, image_size=list(IMAGE_SIZE), patch_size=list(PATCH_SIZE), vision_tower="vit3d",
        vision_select_layer=-1, vision_select_feature="patch", mm_projector_type="spp", proj_layer_type="mlp",
        proj_layer_num=2, proj_pooling_type="spatial", proj_pooling_size=2, mm_hidden_size=32,
        img_token_id=ids("<im_patch>"), seg_token_id=ids("[SEG]"),
        # the replica's tiny ViT (the original's is fixed at 768 wide, 12 layers, 12 heads)
        vision_hidden_size=32, vision_mlp_dim=64, vision_num_layers=1, vision_num_heads=2,
    )
    model = seeded(seed, lambda: lamed_replica.LamedPhi3ForCausalLM(config))
    model.generation_config.pad_token_id = ids("<unk>")
    model.generation_config.eos_token_id = ids("<|endoftext|>")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    _as_remote_code(out, Path(lamed_replica.__file__))
    return out


def _as_remote_code(out: Path, source: Path) -> None:
    """Point the config at the copied modeling file, as the hub release's config does with its own."""
    shutil.copyfile(source, out / REMOTE_CODE)
    config_file = out / "config.json"
    config: dict[str, Any] = json.loads(config_file.read_text())
    module = REMOTE_CODE.removesuffix(".py")
    config["auto_map"] = {"AutoConfig": f"{module}.LamedPhi3Config",
                          "AutoModelForCausalLM": f"{module}.LamedPhi3ForCausalLM"}
    config["architectures"] = ["LamedPhi3ForCausalLM"]
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
