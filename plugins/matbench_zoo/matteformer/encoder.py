"""MatteFormer's encoder (its ``networks/encoders/MatteFormer.py``): a Swin-T backbone whose
blocks (PAST blocks) also attend to *prior-tokens*, plus MG-Matting style convolutional shortcuts
that hand six feature maps to the decoder.

A prior-token is the mean feature of one trimap region (unknown, channel 0, channel 2 of the
one-hot trimap) over the block's input. Each block adds its three tokens to the stage's *prior
memory*; the window attention uses, as keys and values, the 49 tokens of the window followed by
every stored prior-token (oldest set first, each set ordered unknown, channel 0, channel 2), and
the stored tokens are themselves updated by the block (value path, projection and MLP only: they
never act as queries). The official code names the channel-0 token "fg" and the channel-2 token
"bg" although channel 0 is the background; only the order matters, since it selects the rows of
the relative-position bias table.

Omitted because they are the identity at inference: stochastic depth (rate 0.3 in training),
dropout (rate 0) and gradient checkpointing.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .spectral_norm import SpectralNorm

#: one-hot trimap channels in the order of a prior set: unknown, then channel 0 (background),
#: then channel 2 (foreground)
PRIOR_CHANNELS = (1, 0, 2)
#: the released (Swin-T sized) encoder: token width of the first stage, blocks and heads per
#: stage, window side
EMBED_DIM, DEPTHS, HEADS, WINDOW = 96, (2, 2, 6, 2), (3, 6, 12, 24), 7
#: (in, out) channels of the six shortcuts: the input, the 2x upsampled patch embedding, the stages
SHORTCUTS = ((6, 32), (96, 32), (96, 64), (192, 128), (384, 256), (768, 512))
#: the prior-token mean's guard against an empty region
PRIOR_EPS = 1e-9


def to_windows(x: torch.Tensor, size: int) -> torch.Tensor:
    """(B, H, W, C) with H, W multiples of ``size`` -> (B * windows, size * size, C), windows in
    row-major order."""
    b, h, w, c = x.shape
    x = x.view(b, h // size, size, w // size, size, c).permute(0, 1, 3, 2, 4, 5)
    return x.contiguous().view(-1, size * size, c)


def from_windows(windows: torch.Tensor, size: int, h: int, w: int) -> torch.Tensor:
    """The inverse of :func:`to_windows`: (B * windows, size * size, C) -> (B, H, W, C)."""
    b = int(windows.shape[0] / (h * w / size / size))
    x = windows.view(b, h // size, w // size, size, size, -1).permute(0, 1, 3, 2, 4, 5)
    return x.contiguous().view(b, h, w, -1)


def shifted_window_mask(hp: int, wp: int, size: int, shift: int, device: torch.device) -> torch.Tensor:
    """(windows, size², size²) additive mask of the shifted windows: -100 between tokens that come
    from different regions of the rolled (padded) grid, 0 elsewhere (Swin's rule)."""
    regions = torch.zeros((1, hp, wp, 1), device=device)
    bands = (slice(0, -size), slice(-size, -shift), slice(-shift, None))
    label = 0
    for rows in bands:
        for cols in bands:
            regions[:, rows, cols, :] = label
            label += 1
    labels = to_windows(regions, size).view(-1, size * size)
    mask = labels.unsqueeze(1) - labels.unsqueeze(2)
    return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)


class Mlp(nn.Module):
    """Linear -> GELU -> Linear."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class PatchEmbed(nn.Module):
    """4x4 patches of the 6-channel input (RGB + one-hot trimap) -> ``dim`` channels, then
    LayerNorm over channels; returns (B, dim, H/4, W/4). Sides that are not multiples of 4 are
    zero-padded at the right / bottom."""

    def __init__(self, in_channels: int = 6, dim: int = 96, patch: int = 4) -> None:
        super().__init__()
        self.patch, self.dim = patch, dim
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch, stride=patch)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2:]
        if w % self.patch:
            x = F.pad(x, (0, self.patch - w % self.patch))
        if h % self.patch:
            x = F.pad(x, (0, 0, 0, self.patch - h % self.patch))
        x = self.proj(x)
        gh, gw = x.shape[2:]
        x = self.norm(x.flatten(2).transpose(1, 2))
        return x.transpose(1, 2).view(-1, self.dim, gh, gw)


class PatchMerging(nn.Module):
    """Halves the token grid: each 2x2 group (order (0,0), (1,0), (0,1), (1,1)) concatenated,
    LayerNorm, then a linear map 4C -> 2C without bias."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        b, _, c = x.shape
        x = x.view(b, h, w, c)
        if h % 2 or w % 2:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x.view(b, -1, 4 * c)))


def relative_position_index(window: int, prior_sets: int) -> torch.Tensor:
    """(window², window² + 3 * prior_sets) indices into the bias table: Swin's relative offsets
    between the window's tokens, then one row of its own for each prior-token (set i, token j ->
    row (2 * window - 1)² + 3i + j, the same for every query)."""
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
    offsets = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
    pairs = offsets[:, :, 0] * (2 * window - 1) + offsets[:, :, 1]
    first = (2 * window - 1) ** 2
    priors = (first + torch.arange(3 * prior_sets)).expand(window * window, -1)
    return torch.cat([pairs, priors], dim=1)


class PriorWindowAttention(nn.Module):
    """PA-WSA: multi-head attention of each window's tokens over the window and the prior-tokens,
    with a relative-position bias; also returns the prior-tokens' own update (the value and output
    projections applied to them)."""

    def __init__(self, dim: int, window: int, heads: int, prior_sets: int) -> None:
        super().__init__()
        self.dim, self.window, self.heads, self.prior_sets = dim, window, heads, prior_sets
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window - 1) ** 2 + 3 * prior_sets, heads))
        self.register_buffer("relative_position_index", relative_position_index(window, prior_sets))
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, windows: torch.Tensor, mask: torch.Tensor | None, batch: int, n_windows: int,
                priors: list[list[torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
        """``windows``: (B * n_windows, window², C); ``priors``: per set, three (B, 1, C) tokens.
        Returns the attended windows and the updated prior-tokens (B, 3 * sets, C)."""
        bw, n, c = windows.shape
        tokens = [t for prior_set in priors for t in prior_set]
        per_window = [t.expand(-1, n_windows, -1).unsqueeze(2).contiguous().view(-1, 1, c) for t in tokens]
        x = torch.cat([windows] + per_window, dim=1)
        keys = n + 3 * self.prior_sets

        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, keys, -1)
        bias = bias.permute(2, 0, 1).contiguous()
        qkv = self.qkv(x).reshape(bw, keys, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        q = q[:, :, :n, :] * self.scale
        attn = q @ k.transpose(-2, -1)
        attn = attn + bias.unsqueeze(0)
        if mask is not None:
            n_masks = mask.shape[0]
            mask = F.pad(mask, (0, 3 * self.prior_sets, 0, 0))
            attn = attn.view(bw // n_masks, n_masks, self.heads, n, keys) + mask.contiguous().unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.heads, n, keys)
        attn = attn.softmax(dim=-1)
        out = self.proj((attn @ v).transpose(1, 2).reshape(bw, n, c))

        stacked = torch.cat(tokens, dim=1)
        values = self.qkv(stacked).reshape(batch, 3 * self.prior_sets, 3, self.heads, c // self.heads)
        values = values.permute(2, 0, 3, 1, 4)[2]
        prior_out = self.proj(values.transpose(1, 2).reshape(batch, 3 * self.prior_sets, c))
        return out, prior_out


class PASTBlock(nn.Module):
    """Prior-attentive Swin block: (shifted) window attention over windows and prior-tokens,
    then the MLP; the stage's prior memory (a list of [unknown, ch0, ch2] token sets, each (B, C))
    gains this block's set and every set is updated."""

    def __init__(self, dim: int, heads: int, window: int, shift: int, prior_sets: int,
                 mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = PriorWindowAttention(dim, window, heads, prior_sets)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    @staticmethod
    def region_means(x: torch.Tensor, regions: list[torch.Tensor]) -> list[torch.Tensor]:
        """The mean feature of ``x`` (B, H, W, C) over each region mask (B, H, W, 1): (B, C) each."""
        return [(area * x).permute(0, 3, 1, 2).sum(axis=(-1, -2)) / (area.sum(axis=(1, 2)) + PRIOR_EPS)
                for area in regions]

    def forward(self, x: torch.Tensor, h: int, w: int, mask: torch.Tensor, memory: list[list[torch.Tensor]],
                regions: list[torch.Tensor]) -> tuple[torch.Tensor, list[list[torch.Tensor]]]:
        b, length, c = x.shape
        shortcut = x
        memory = memory + [self.region_means(shortcut.view(b, h, w, c), regions)]

        x = self.norm1(x).view(b, h, w, c)
        priors = [[self.norm1(t).unsqueeze(1) for t in prior_set] for prior_set in memory]
        pad_r, pad_b = -w % self.window, -h % self.window
        x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
        hp, wp = x.shape[1:3]
        if self.shift:
            x = torch.roll(x, shifts=(-self.shift, -self.shift), dims=(1, 2))
        n_windows = (hp // self.window) * (wp // self.window)
        windows, prior_out = self.attn(to_windows(x, self.window), mask if self.shift else None, b, n_windows, priors)
        x = from_windows(windows.view(-1, self.window, self.window, c), self.window, hp, wp)
        if self.shift:
            x = torch.roll(x, shifts=(self.shift, self.shift), dims=(1, 2))
        if pad_r or pad_b:
            x = x[:, :h, :w, :].contiguous()
        x = shortcut + x.view(b, h * w, c)
        x = x + self.mlp(self.norm2(x))

        updates = prior_out.chunk(3 * len(memory), dim=1)
        new_memory = []
        for i, prior_set in enumerate(memory):
            new_set = []
            for j, token in enumerate(prior_set):
                token = token + updates[3 * i + j].squeeze(1)
                new_set.append(token + self.mlp(self.norm2(token)))
            new_memory.append(new_set)
        return x, new_memory


class Stage(nn.Module):
    """``depth`` PAST blocks (shift 0 / window // 2 alternating; block i holds i + 1 prior
    sets) sharing one prior memory, then optional patch merging."""

    def __init__(self, dim: int, depth: int, heads: int, window: int, downsample: bool) -> None:
        super().__init__()
        self.window, self.shift = window, window // 2
        self.blocks = nn.ModuleList(
            PASTBlock(dim, heads, window, 0 if i % 2 == 0 else window // 2, prior_sets=i + 1) for i in range(depth))
        self.downsample = PatchMerging(dim) if downsample else None

    def forward(self, x: torch.Tensor, h: int, w: int,
                regions: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, int, int]:
        """Returns the stage's tokens, those of the next stage, and the next grid size."""
        hp, wp = -(-h // self.window) * self.window, -(-w // self.window) * self.window
        mask = shifted_window_mask(hp, wp, self.window, self.shift, x.device)
        memory: list[list[torch.Tensor]] = []
        for block in self.blocks:
            x, memory = block(x, h, w, mask, memory, regions)
        if self.downsample is None:
            return x, x, h, w
        return x, self.downsample(x, h, w), (h + 1) // 2, (w + 1) // 2


def shortcut(in_channels: int, out_channels: int) -> nn.Sequential:
    """MG-Matting's shortcut: (spectral-norm conv3x3 -> ReLU -> BatchNorm) twice."""
    return nn.Sequential(
        SpectralNorm(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)),
        nn.ReLU(inplace=True),
        nn.BatchNorm2d(out_channels),
        SpectralNorm(nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)),
        nn.ReLU(inplace=True),
        nn.BatchNorm2d(out_channels),
    )


class MatteFormerEncoder(nn.Module):
    """Swin-T with prior-tokens (embedding 96, depths 2-2-6-2, heads 3-6-12-24, window 7) over RGB
    + one-hot trimap. Returns six maps: shortcuts of the input (32 channels, full size), of the 2x
    upsampled patch embedding (32, 1/2) and of each stage's normalised output (64, 128, 256, 512
    channels at 1/4 ... 1/32)."""

    def __init__(self) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed(6, EMBED_DIM)
        self.widths = [EMBED_DIM * 2 ** i for i in range(len(DEPTHS))]
        self.layers = nn.ModuleList(
            Stage(width, depth, heads, WINDOW, downsample=i < len(DEPTHS) - 1)
            for i, (width, depth, heads) in enumerate(zip(self.widths, DEPTHS, HEADS)))
        for i, width in enumerate(self.widths):
            self.add_module(f"norm{i}", nn.LayerNorm(width))
        self.shortcut = nn.ModuleList(shortcut(i, o) for i, o in SHORTCUTS)

    def forward(self, x: torch.Tensor, trimap_onehot: torch.Tensor) -> list[torch.Tensor]:
        outs = [self.shortcut[0](x)]
        x = self.patch_embed(x)
        h, w = x.shape[2:]
        # the 1/4 grid takes the top-left trimap pixel of each 4x4 block (nearest)
        grid_trimap = F.interpolate(trimap_onehot, scale_factor=1 / 4, mode="nearest")
        # the one shortcut resampled with align_corners=True (F.upsample_bilinear in the official code)
        outs.append(self.shortcut[1](F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True)))
        x = x.flatten(2).transpose(1, 2)
        for i, stage in enumerate(self.layers):
            stage_trimap = F.interpolate(grid_trimap, scale_factor=1 / 2 ** i, mode="nearest")
            regions = [stage_trimap[:, ch, :, :].unsqueeze(-1) for ch in PRIOR_CHANNELS]
            out, x, next_h, next_w = stage(x, h, w, regions)
            out = getattr(self, f"norm{i}")(out)
            out = out.view(-1, h, w, self.widths[i]).permute(0, 3, 1, 2).contiguous()
            outs.append(self.shortcut[i + 2](out))
            h, w = next_h, next_w
        return outs
