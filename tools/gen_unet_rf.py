"""Record the receptive fields of the two U-Nets by PyTorch's gradients, for tests/test_unet_specs.py.

    /tmp/tvenv/bin/python tools/gen_unet_rf.py      # torch 2.13.0 in a scratch venv, never a dependency

A receptive field depends on the windows, strides, pads and crops alone, not on the channels, so each
U-Net is rebuilt with one channel per tensor (two where a skip is concatenated), every weight 1/fan-in
(positive: no gradient can cancel), max pools as average pools (the same windows, every tap weighted),
no batch norm (it scales, it does not move) and ReLU on positive values (the identity). The field of an
output unit is then the rows of the input whose gradient is not zero. The widest over one period of
units (16: four 2x poolings) is the size; the first unit's first row, extrapolated from a unit in the
middle of a large input so that no border clips it, is the start. Rows and columns are alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "unet_rf.json"


def _conv(c_in: int, c_out: int, k: int, pad: int) -> nn.Conv2d:
    conv = nn.Conv2d(c_in, c_out, k, padding=pad, bias=False).double()
    nn.init.constant_(conv.weight, 1.0 / (c_in * k * k))
    return conv


class Geometry(nn.Module):
    """The U-Net's windows with one channel: valid (the paper) or padded (milesial)."""

    def __init__(self, *, padded: bool) -> None:
        super().__init__()
        p = 1 if padded else 0
        self.padded = padded
        self.down = nn.ModuleList(
            nn.Sequential(_conv(1, 1, 3, p), nn.ReLU(), _conv(1, 1, 3, p), nn.ReLU()) for _ in range(5)
        )
        self.ups = nn.ModuleList()
        self.convs = nn.ModuleList()
        for _ in range(4):
            up = nn.ConvTranspose2d(1, 1, 2, stride=2, bias=False).double()
            nn.init.constant_(up.weight, 1.0)
            self.ups.append(up)
            self.convs.append(nn.Sequential(_conv(2, 1, 3, p), nn.ReLU(), _conv(1, 1, 3, p), nn.ReLU()))
        self.out = _conv(1, 1, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            if i:
                x = F.avg_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        x = skips.pop()
        for up, conv in zip(self.ups, self.convs, strict=True):
            x = up(x)
            skip = skips.pop()
            dy, dx = skip.size(2) - x.size(2), skip.size(3) - x.size(3)
            if self.padded:
                x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
            else:
                h, w = x.shape[2:]
                skip = skip[:, :, dy // 2 : dy // 2 + h, dx // 2 : dx // 2 + w]
            x = conv(torch.cat([skip, x], dim=1))
        return self.out(x)


def _rows(model: nn.Module, size: int, unit: int) -> tuple[int, int]:
    """The first and last input row that output unit (unit, middle column) reads."""
    x = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = model(x)
    y[0, 0, unit, y.shape[3] // 2].backward()
    assert x.grad is not None
    rows = torch.nonzero(x.grad[0, 0].abs().sum(dim=1) > 0).flatten()
    return int(rows[0]), int(rows[-1])


def measure(*, padded: bool, size: int) -> dict[str, object]:
    model = Geometry(padded=padded)
    with torch.no_grad():
        out = model(torch.ones(1, 1, size, size, dtype=torch.float64)).shape[2]
    middle = out // 2 - (out // 2) % 16
    spans = [_rows(model, size, middle + k) for k in range(16)]
    widest = max(last - first + 1 for first, last in spans)
    start = spans[0][0] - middle  # the jump of the output is 1 input pixel
    return {"input": size, "output": out, "size": [widest, widest], "jump": [1, 1], "start": [start, start]}


def main() -> None:
    truth = {
        "torch": torch.__version__,
        "command": "/tmp/tvenv/bin/python tools/gen_unet_rf.py",
        "unet": measure(padded=False, size=572 + 16 * 16),  # 828: the paper's sizes plus whole periods
        "unet_padded": measure(padded=True, size=512),
    }
    OUT.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(truth, indent=2))


if __name__ == "__main__":
    main()
