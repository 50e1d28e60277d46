"""M3D-LaMed's architecture, written here from its description, for tiny offline checkpoints.

M3D-LaMed (BAAI-DCAI/M3D, ``LaMed/src/model``; hub release ``GoodBaiBai88/M3D-LaMed-Phi-3-4B``) is a causal
language model with a 3D vision front end:

- a 3D ViT (MONAI's patch-embedding and transformer blocks, a CLS token, a final LayerNorm) over a
  ``1 x 32 x 256 x 256`` volume cut into ``4 x 16 x 16`` patches: 8 x 16 x 16 = 2048 patch features;
- a *spatial pooling projector*: the patch features back on their 3D grid, average-pooled 2 x 2 x 2
  (4 x 8 x 8 = 256), then an MLP (Linear, GELU, Linear) into the language model's width;
- the language model (Phi-3 here) whose prompt starts with one token, then 256 ``<im_patch>`` tokens, then the
  text: the 256 projected features replace the embeddings at positions 1..256;
- ``generate(images, inputs, **kwargs)``: images first, then the prompt ids; the language model then generates
  from the spliced embeddings, so the output holds only the new tokens.

The module names, config fields and call signature are the original's, so the harness drives this replica
exactly as it drives the released remote code. The vision sizes, fixed in the original (768 wide, 12 layers,
12 heads, MLP 3072), are read here from optional config fields whose defaults are those values, so that a tiny
replica can be built. The segmentation head (SegVol) is left out: the harness asks for text only.

This file is self-contained (torch, transformers, MONAI): ``baselines.tiny_lamed`` copies it into a tiny
checkpoint as its remote code (``modeling_lamed.py``), loaded with ``trust_remote_code`` like the real one.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from transformers import Phi3Config, Phi3ForCausalLM, Phi3Model


class LamedPhi3Config(Phi3Config):
    model_type = "lamed_phi3"


class ViT(nn.Module):
    """MONAI-block 3D ViT with a CLS token; returns the normalised last layer and every layer's output."""

    def __init__(self, in_channels: int, img_size: tuple[int, ...], patch_size: tuple[int, ...], hidden_size: int,
                 mlp_dim: int, num_layers: int, num_heads: int):
        super().__init__()
        from monai.networks.blocks.patchembedding import PatchEmbeddingBlock
        from monai.networks.blocks.transformerblock import TransformerBlock

        self.hidden_size = hidden_size
        self.patch_embedding = PatchEmbeddingBlock(
            in_channels=in_channels, img_size=img_size, patch_size=patch_size, hidden_size=hidden_size,
            num_heads=num_heads, proj_type="perceptron", spatial_dims=len(patch_size))
        self.blocks = nn.ModuleList([TransformerBlock(hidden_size, mlp_dim, num_heads) for _ in range(num_layers)])
        self.norm = nn.LayerNorm(hidden_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, hidden_size))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = self.patch_embedding(x)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        hidden = []
        for block in self.blocks:
            x = block(x)
            hidden.append(x)
        return self.norm(x), hidden


class ViT3DTower(nn.Module):
    def __init__(self, config: Any):
        super().__init__()
        self.select_layer = getattr(config, "vision_select_layer", -1)
        self.select_feature = getattr(config, "vision_select_feature", "patch")
        self.vision_tower = ViT(
            in_channels=config.image_channel, img_size=tuple(config.image_size), patch_size=tuple(config.patch_size),
            hidden_size=getattr(config, "vision_hidden_size", 768), mlp_dim=getattr(config, "vision_mlp_dim", 3072),
            num_layers=getattr(config, "vision_num_layers", 12), num_heads=getattr(config, "vision_num_heads", 12))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        last, hidden = self.vision_tower(images)
        features = last if self.select_layer == -1 else hidden[self.select_layer]
        return features[:, 1:] if self.select_feature == "patch" else features

    @property
    def hidden_size(self) -> int:
        return self.vision_tower.hidden_size


class SpatialPoolingProjector(nn.Module):
    """Patch features -> their 3D grid -> average pooling -> MLP into the language model's width."""

    def __init__(self, config: Any):
        super().__init__()
        self.in_dim = config.mm_hidden_size
        self.pooling_type = getattr(config, "proj_pooling_type", "spatial")
        self.pooling_size = getattr(config, "proj_pooling_size", 2)
        self.grid = [i // p for i, p in zip(config.image_size, config.patch_size)]
        depth = int(getattr(config, "proj_layer_num", 2))
        layers: list[nn.Module] = [nn.Linear(self.in_dim, config.hidden_size)]
        for _ in range(1, depth):
            if getattr(config, "proj_layer_type", "mlp") == "mlp":
                layers.append(nn.GELU())
            layers.append(nn.Linear(config.hidden_size, config.hidden_size))
        self.projector = nn.Sequential(*layers)

    @property
    def proj_out_num(self) -> int:
        if self.pooling_type == "spatial":
            out = 1
            for n in self.grid:
                out *= n // self.pooling_size
            return out
        total = 1
        for n in self.grid:
            total *= n
        return total // self.pooling_size ** 3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        if self.pooling_type == "spatial":
            x = x.transpose(1, 2).reshape(batch, self.in_dim, *self.grid)
            x = F.avg_pool3d(x, kernel_size=self.pooling_size, stride=self.pooling_size)
            x = x.flatten(2).transpose(1, 2)
        else:
            x = F.avg_pool1d(x.transpose(1, 2), kernel_size=self.pooling_size ** 3,
                             stride=self.pooling_size ** 3).transpose(1, 2)
        return self.projector(x)


class LamedPhi3Model(Phi3Model):
    config_class = LamedPhi3Config

    def __init__(self, config: LamedPhi3Config):
        super().__init__(config)
        self.vision_tower = ViT3DTower(config)
        self.mm_projector = SpatialPoolingProjector(config)


class LamedPhi3ForCausalLM(Phi3ForCausalLM):
    config_class = LamedPhi3Config

    def __init__(self, config: LamedPhi3Config):
        super().__init__(config)
        self.model = LamedPhi3Model(config)
        self.post_init()

    def get_model(self) -> LamedPhi3Model:
        return self.model

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        return self.model.mm_projector(self.model.vision_tower(images))

    def _spliced_embeddings(self, input_ids: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        """The prompt's embeddings with the image features at positions 1..N, as the original splices them."""
        embeds = self.model.embed_tokens(input_ids)
        features = self.encode_images(images).to(embeds.dtype)
        return torch.cat((embeds[:, :1], features, embeds[:, features.shape[1] + 1:]), dim=1)

    def forward(self, images: torch.Tensor | None = None, input_ids: torch.Tensor | None = None,
                inputs_embeds: torch.Tensor | None = None, **kwargs: Any) -> Any:
        if inputs_embeds is None and images is not None and input_ids is not None and input_ids.shape[1] > 1:
            inputs_embeds, input_ids = self._spliced_embeddings(input_ids, images), None
        return super().forward(input_ids=input_ids, inputs_embeds=inputs_embeds, **kwargs)

    @torch.no_grad()
    def generate(self, images: torch.Tensor | None = None, inputs: torch.Tensor | None = None,
                 **kwargs: Any) -> Any:
        if "inputs_embeds" in kwargs:
            raise NotImplementedError("`inputs_embeds` is not supported")
        embeds = self._spliced_embeddings(inputs, images) if images is not None else self.model.embed_tokens(inputs)
        return super().generate(inputs_embeds=embeds, **kwargs)
