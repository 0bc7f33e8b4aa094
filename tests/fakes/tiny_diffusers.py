"""A randomly initialised Stable Diffusion pipeline, built offline and saved with `save_pretrained`.

    build_tiny_pipeline(home / "models" / "diffusers" / "tiny")        # 64x64, ~300 KB
    build_tiny_pipeline(folder, TinySpec.bench())                        # larger, for timings

Every component is made from a config, nothing is downloaded: a small UNet, VAE and
CLIP text encoder (seeded, so the weights are the same every time), a DDIM scheduler, and
a CLIP BPE tokenizer whose vocabulary is the 256 byte-level characters (with and without
the end-of-word mark) plus a few merges. The folder has the layout a Hub repo has
(model_index.json, one folder per component, safetensors weights), so the provider and
`easel pull` handle it exactly as they would a real pipeline.

`StopAt` is the Progress protocol for tests that must stop at an exact step, `pixels`
decodes a PNG for comparing pictures.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from easel.jobs import JobStopped

MERGES = [("c", "a"), ("ca", "t</w>"), ("r", "e"), ("re", "d</w>"), ("o", "g</w>"), ("d", "og</w>")]


@dataclass(frozen=True, slots=True)
class TinySpec:
    channels: tuple[int, ...] = (4, 8)  # UNet and VAE block widths; the VAE scales by 2**(len-1)
    layers_per_block: int = 1
    sample_size: int = 32  # latent side: pictures are sample_size * 2**(len(channels)-1) pixels
    text_hidden: int = 32
    text_layers: int = 2
    norm_groups: int = 2
    seed: int = 0

    @classmethod
    def bench(cls) -> TinySpec:
        """A pipeline big enough that a run takes a noticeable fraction of a second on a CPU."""
        return cls(channels=(32, 64, 64), layers_per_block=2, sample_size=32, text_hidden=64, text_layers=4,
                   norm_groups=32)


def byte_vocab() -> dict[str, int]:
    """CLIP's byte-level alphabet (GPT-2's bytes_to_unicode), with `</w>` forms, merges and specials."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            codes.append(256 + extra)
            extra += 1
    chars = [chr(c) for c in codes]
    tokens = [*chars, *(c + "</w>" for c in chars), *("".join(m) for m in MERGES),
              "<|startoftext|>", "<|endoftext|>"]
    return {token: index for index, token in enumerate(dict.fromkeys(tokens))}


def build_tiny_pipeline(folder: Path, spec: TinySpec = TinySpec()) -> Path:
    """Save a random pipeline per `spec` into `folder` and return it."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    vocab = byte_vocab()
    tokenizer = CLIPTokenizer(vocab=vocab, merges=list(MERGES), model_max_length=77)  # type: ignore[arg-type]
    torch.manual_seed(spec.seed)
    n = len(spec.channels)
    unet = UNet2DConditionModel(
        block_out_channels=spec.channels, layers_per_block=spec.layers_per_block, sample_size=spec.sample_size,
        in_channels=4, out_channels=4, cross_attention_dim=spec.text_hidden, norm_num_groups=spec.norm_groups,
        attention_head_dim=2 if spec.channels[0] < 16 else 8,
        down_block_types=("DownBlock2D", *(["CrossAttnDownBlock2D"] * (n - 1))),
        up_block_types=(*(["CrossAttnUpBlock2D"] * (n - 1)), "UpBlock2D"))
    vae = AutoencoderKL(
        block_out_channels=list(spec.channels), in_channels=3, out_channels=3, latent_channels=4,
        norm_num_groups=spec.norm_groups, layers_per_block=1,
        down_block_types=["DownEncoderBlock2D"] * n, up_block_types=["UpDecoderBlock2D"] * n)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(vocab), hidden_size=spec.text_hidden, intermediate_size=spec.text_hidden * 2,
        num_attention_heads=4, num_hidden_layers=spec.text_layers, max_position_embeddings=77,
        bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"], layer_norm_eps=1e-5))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    pipe: Any = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                                   scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   image_encoder=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


class StopAt:
    """The Progress protocol, canceled the moment `message` is reported (so the next step raises)."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message
        self.seen: list[str | None] = []
        self.canceled = False

    def progress(self, fraction: float, message: str | None = None) -> None:
        self.raise_if_canceled()
        self.seen.append(message)
        if message is not None and message == self.message:
            self.canceled = True

    def is_canceled(self) -> bool:
        return self.canceled

    def raise_if_canceled(self) -> None:
        if self.canceled:
            raise JobStopped("canceled")

    async def wait_canceled(self, timeout: float | None = None) -> bool:
        return self.canceled


def pixels(data: bytes) -> tuple[tuple[int, int], bytes]:
    """A PNG's size and RGB bytes."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.size, image.convert("RGB").tobytes()
