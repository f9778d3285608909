"""The modality, the networks and the recipe. Replace them with your own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

import ganforge


class Points(ganforge.Modality):
    """CSV files of rows of numbers (a header line first) <-> [N, dim] tensors."""

    file_kind = "CSV"

    def load(self, path):
        files = [f for f in ganforge.data_files(path, (".csv",), "CSV") if f.name != "metadata.csv"]
        report = ganforge.DataReport("CSV")
        rows = []
        for file in files:
            try:
                values = [[float(v) for v in line.split(",")] for line in file.read_text().splitlines()[1:] if line]
                rows.append(torch.tensor(values, dtype=torch.float32))
            except ValueError as e:
                report.skip(file, str(e))
        report.finish(len(rows), Path(path))
        x = torch.cat(rows)
        if "scale" not in self.state:  # learned from the data, kept in the run (ganforge.json)
            self.state["scale"] = float(x.abs().max().clamp(min=1e-6))
        self.state["dim"] = int(x.shape[1])
        return ganforge.SampleSet({"x": x}, to_model=lambda b: b / self.state["scale"])

    def derived_config(self):
        return {"dim": self.state["dim"]}

    def save_samples(self, x, out_dir, names, metadata=(), append=False):
        path = Path(out_dir) / "points.csv"
        with open(path, "a" if append else "w") as f:
            if not append:
                f.write(",".join(f"x{i}" for i in range(x.shape[1])) + "\n")
            for row in (x * self.state["scale"]).tolist():
                f.write(",".join(f"{v:.5f}" for v in row) + "\n")
        return [path] * len(x)

    def save_preview(self, x, path, labels=None):
        out = Path(f"{path}.csv")
        out.write_text("\n".join(",".join(f"{v:.4f}" for v in row) for row in x.tolist()) + "\n")
        return [out]


@dataclass
class MLPConfig:
    dim: int = 2  # from the data (derived_config)
    nz: int = 8
    hidden: int = 64


class Generator(ganforge.Generator):
    config_class = MLPConfig

    def __init__(self, cfg: MLPConfig):
        super().__init__()
        self.cfg = cfg
        self.net = nn.Sequential(nn.Linear(cfg.nz, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, cfg.dim))

    def forward(self, z, cond=None):
        return self.net(z)


class Discriminator(ganforge.Discriminator):
    config_class = MLPConfig

    def __init__(self, cfg: MLPConfig):
        super().__init__()
        self.cfg = cfg
        self.net = nn.Sequential(nn.Linear(cfg.dim, cfg.hidden), nn.LeakyReLU(0.2), nn.Linear(cfg.hidden, 1))

    def forward(self, x, cond=None):
        return self.net(x).squeeze(1)


RECIPE = ganforge.Recipe(
    modality="video-points", generator="video-mlp", discriminator="video-mlp",
    summary="an MLP GAN on points",
    defaults={"nz": 8, "hidden": 64, "steps": 500, "batch_size": 64, "checkpoint_every": 100,
              "sample_every": 100, "preview_n": 64, "log_every": 10},
    options={"nz": "latent size", "hidden": "width of the MLPs"},
)
