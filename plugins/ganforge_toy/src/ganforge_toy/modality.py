"""Points: CSV files of coordinates (a header line, one point per row) <-> [N, dim] tensors."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from PIL import Image, ImageDraw

import ganforge


class PointsModality(ganforge.Modality):
    file_kind = "CSV"

    def load(self, path):
        # metadata.csv holds captions (the data-folder convention), never points
        files = [f for f in ganforge.data_files(path, (".csv",), "CSV point") if f.name != "metadata.csv"]
        report = ganforge.DataReport("CSV point")
        rows = []
        for file in files:
            try:
                lines = file.read_text(encoding="utf-8").splitlines()
                values = [[float(v) for v in line.split(",")] for line in lines[1:] if line.strip()]
                if not values:
                    raise ValueError("no rows")
                points = torch.tensor(values, dtype=torch.float32)
                if not torch.isfinite(points).all():
                    raise ValueError("non-finite coordinates (nan or inf)")
                rows.append(points)
            except (ValueError, UnicodeDecodeError) as e:
                report.skip(file, str(e))
        report.finish(len(rows), Path(path))
        widths = {r.shape[1] for r in rows}
        if len(widths) != 1:
            raise ganforge.GanforgeError(f"the CSV files under {path} have different numbers of columns {sorted(widths)}")
        modes_file = (Path(path) if Path(path).is_dir() else Path(path).parent) / "modes.json"
        if modes_file.is_file() and "modes" not in self.state:
            self.state.update(json.loads(modes_file.read_text()))
        self.state["dim"] = widths.pop()
        return ganforge.SampleSet({"x": torch.cat(rows)})

    def derived_config(self):
        return {"dim": self.state["dim"]}

    @property
    def default_metrics(self):
        return ("modes",) if "modes" in self.state else ("fd", "kid", "prc")

    def feature_space(self, real, spec=None):
        if spec:
            raise ganforge.GanforgeError("points are compared as raw coordinates; drop --features")
        return "raw coordinates", lambda x: x.float()

    def save_samples(self, x, out_dir, names, metadata=(), append=False):
        """One CSV, ``points.csv``, a row per sample."""
        path = Path(out_dir) / "points.csv"
        with open(path, "a" if append else "w") as f:
            if not append:
                f.write(",".join(f"x{i}" for i in range(x.shape[1])) + "\n")
            for row in x.tolist():
                f.write(",".join(f"{v:.6f}" for v in row) + "\n")
        return [path] * len(x)

    def save_preview(self, x, path, labels=None):
        """A scatter plot of the first two coordinates (modes drawn as red rings)."""
        size, pts = 512, x[:, :2].float()
        modes = torch.tensor(self.state["modes"]) if "modes" in self.state else pts
        lo = torch.minimum(pts.min(0).values, modes.min(0).values) - 0.5
        hi = torch.maximum(pts.max(0).values, modes.max(0).values) + 0.5
        span = (hi - lo).max().clamp(min=1e-6)
        to_px = lambda p: ((p - lo) / span * (size - 1)).tolist()
        img = Image.new("RGB", (size, size), "white")
        draw = ImageDraw.Draw(img)
        if "modes" in self.state:
            for m in to_px(modes):
                draw.ellipse([m[0] - 6, size - m[1] - 6, m[0] + 6, size - m[1] + 6], outline="red")
        for p in to_px(pts):
            draw.point((p[0], size - 1 - p[1]), fill="black")
        out = Path(str(path) + ".png")
        img.save(out)
        return [out]
