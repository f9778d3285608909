"""``ganforge report RUN [--out DIR]``: one self-contained HTML file about a run, for people who
do not run a server: loss curves (PNG plots embedded as data URIs), the previews over time,
the configuration, the data, and the metrics `ganforge evaluate` gave it.

Python::

    from ganforge_web.report import write_report
    path = write_report("runs/shapes")            # runs/shapes/report.html
"""

from __future__ import annotations

import argparse
import base64
import datetime
import html
import io
import json
from pathlib import Path

import ganforge

from . import plots, runs
from .cli import parse

REPORT_NAME = "report.html"
MAX_PREVIEWS = 8
PICTURE_WIDTH = 768  # wider preview grids are scaled down to this many pixels
MAX_AUDIO_BYTES = 8_000_000  # the last audio preview is embedded up to this size

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:1.6rem;margin:0 0 4px} h2{font-size:1.15rem;margin:28px 0 10px;border-bottom:1px solid #dde1e7;padding-bottom:4px}
.sub{color:#5b6474;margin:0 0 16px} .card{background:#fff;border:1px solid #e1e5eb;border-radius:8px;padding:14px;margin:10px 0}
img.plot{max-width:100%;height:auto} .previews{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:12px}
figure{margin:0;background:#fff;border:1px solid #e1e5eb;border-radius:8px;padding:8px} figure img{width:100%;image-rendering:pixelated}
figcaption{font-size:.85rem;color:#5b6474;margin-top:4px} table{border-collapse:collapse;width:100%;font-size:.88rem;background:#fff}
td,th{border-bottom:1px solid #eceff3;padding:4px 8px;text-align:left;vertical-align:top} th{background:#f0f2f5}
td.v{font-family:ui-monospace,Menlo,monospace;word-break:break-all} tr.user td{font-weight:600}
pre{background:#fff;border:1px solid #e1e5eb;border-radius:8px;padding:10px;overflow:auto;font-size:.85rem}
.note{color:#5b6474;font-size:.85rem}
"""


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _picture_uri(path: Path) -> str:
    """A preview picture as a PNG data URI, scaled down when it is wider than the page."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.width > PICTURE_WIDTH:
            im = im.resize((PICTURE_WIDTH, round(im.height * PICTURE_WIDTH / im.width)), Image.LANCZOS)
        buffer = io.BytesIO()
        im.save(buffer, format="PNG", optimize=True)
    return _data_uri(buffer.getvalue(), "image/png")


def _e(value) -> str:
    return html.escape(str(value))


def _table(rows, head) -> str:
    out = ["<table>" + ("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>" if head else "")]
    for row in rows:
        cls, cells = row if isinstance(row, tuple) and isinstance(row[0], str) and row[0] in ("user", "") else ("", row)
        out.append(f"<tr class='{cls}'>" + "".join(
            f"<td class='v'>{_e(c)}</td>" if i else f"<td>{_e(c)}</td>" for i, c in enumerate(cells)) + "</tr>")
    return "".join(out) + "</table>"


def _previews_html(previews: list) -> str:
    if not previews:
        return "<p class='note'>No previews yet (the loop writes one every <code>sample_every</code> steps).</p>"
    shown = runs.spread(previews, MAX_PREVIEWS)
    figures = []
    for p in shown:
        picture = p.picture()
        if picture is not None:
            body = f"<img src='{_picture_uri(picture)}' alt='preview at step {p.step}'>"
        elif "txt" in p.files:
            lines = p.files["txt"].read_text(encoding="utf-8", errors="replace").splitlines()[:12]
            body = f"<pre>{_e(chr(10).join(lines))}</pre>"
        else:
            body = "<p class='note'>" + ", ".join(_e(f.name) for f in p.files.values()) + "</p>"
        figures.append(f"<figure>{body}<figcaption>step {p.step}</figcaption></figure>")
    out = f"<div class='previews'>{''.join(figures)}</div>"
    last_wav = previews[-1].files.get("wav")
    if last_wav is not None:
        size = last_wav.stat().st_size
        if size <= MAX_AUDIO_BYTES:
            out += (f"<p>Last preview (step {previews[-1].step}), listen: <audio controls "
                    f"src='{_data_uri(last_wav.read_bytes(), 'audio/wav')}'></audio></p>")
        else:
            out += f"<p class='note'>The last preview's audio ({size / 1e6:.0f} MB) is in {_e(last_wav)}.</p>"
    if len(previews) > len(shown):
        out += f"<p class='note'>{len(shown)} of {len(previews)} previews, spread over the run.</p>"
    return out


def _metrics_html(records: list[dict]) -> str:
    if not records:
        return ("<p class='note'>No metrics yet: <code>ganforge report RUN --evaluate DATA</code> scores the run, "
                "or run <code>ganforge evaluate RUN --data DATA --save</code>.</p>")
    parts = []
    for record in records:
        rows = [(k, f"{v:.4f}" if isinstance(v, float) else (json.dumps(v) if not isinstance(v, str) else v))
                for k, v in record.items()]
        parts.append(_table(rows, ("metric", "value")))
    return "".join(f"<div class='card'>{p}</div>" for p in parts)


def _data_html(info: dict) -> str:
    state = info.get("modality_state") or {}
    rows = [("folder", info.get("data", "?")), ("modality", (info.get("components") or {}).get("modality", "?"))]
    for key, value in sorted(state.items()):
        text = json.dumps(value)
        if len(text) <= 300:
            rows.append((key, text))
        else:
            rows.append((key, f"{type(value).__name__} of {len(value)}" if hasattr(value, "__len__") else "…"))
    return _table(rows, None)


def build_report(run, evaluated: list[dict] | None = None) -> str:
    """The report of ``run`` as one HTML string (plots, pictures and audio embedded)."""
    run = Path(run)
    info = runs.read_info(run)
    records = runs.read_log(run)
    c = runs.curves(records)
    losses = plots.curves_png(c.losses(), "losses", c.phases)
    others = c.others()
    title = run.resolve().name
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)} · ganforge report</title>",
             f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{CSS}</style></head><body><main>",
             f"<h1>{_e(title)}</h1><p class='sub'>{_e(runs.status(run, info, records))}<br>"
             f"report written {when} · ganforge {_e(info.get('ganforge_version', '?'))} · {_e(run.resolve())}</p>",
             "<h2>Training curves</h2>",
             f"<div class='card'><img class='plot' alt='loss curves' src='{_data_uri(losses, 'image/png')}'></div>"]
    if others:
        picture = plots.curves_png(others, "discriminator outputs and other logged values", c.phases)
        parts.append(f"<div class='card'><img class='plot' alt='other curves' src='{_data_uri(picture, 'image/png')}'></div>")
    if "samples_per_s" in c.series:
        speeds = c.series["samples_per_s"][1]
        parts.append(f"<p class='note'>throughput: {speeds[-1]:.1f} samples/s at the last record</p>")
    parts += ["<h2>Previews over time</h2>", _previews_html(runs.previews(run)),
              "<h2>Metrics</h2>", _metrics_html(runs.metrics(run) + list(evaluated or [])),
              "<h2>Data</h2>", _data_html(info),
              "<h2>Components</h2>",
              _table([(k, v) for k, v in (info.get("components") or {}).items() if v], ("part", "name")),
              "<h2>Configuration</h2><p class='note'>Options you set are in bold.</p>",
              _table([("user" if user else "", (k, v)) for k, v, user in runs.config_rows(info)], ("option", "value")),
              "</main></body></html>"]
    return "".join(parts)


def write_report(run, out=None, evaluate_data=None, n: int | None = None) -> Path:
    """Write ``report.html`` into ``out`` (default: the run itself) and return its path.
    ``evaluate_data``: also score the run against this data (`ganforge evaluate`'s default
    metrics); kept in the run's metrics.jsonl when the report goes into the run."""
    run = Path(run)
    runs.read_info(run)  # a clear error before any work
    evaluated = []
    if evaluate_data is not None:
        scores = ganforge.metrics.evaluate(ganforge.load(run), evaluate_data, n=n)
        record = {"data": str(evaluate_data), "step": runs.read_info(run).get("step"), **scores}
        evaluated.append(record)
    folder = run if out is None else Path(out)
    if folder.exists() and not folder.is_dir():
        raise ganforge.GanforgeError(f"cannot write {folder}: it is a file; choose another --out folder")
    folder.mkdir(parents=True, exist_ok=True)
    if evaluated and folder.resolve() == run.resolve():
        with open(run / "metrics.jsonl", "a", encoding="utf-8") as f:
            for record in evaluated:
                f.write(json.dumps(record) + "\n")
        evaluated = []  # now read back from the run with the others
    text = build_report(run, evaluated)
    path = folder / REPORT_NAME
    tmp = path.with_name(f".{REPORT_NAME}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def report_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ganforge report", description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="run folder (the --out of ganforge train)")
    parser.add_argument("--out", help="folder to write report.html into (default: the run)")
    parser.add_argument("--evaluate", metavar="DATA", help="also score the run against DATA (ganforge evaluate's "
                        "default metrics) and keep the scores in RUN/metrics.jsonl")
    parser.add_argument("-n", type=int, help="generated samples to score with --evaluate")
    args = parse(parser, argv)
    path = write_report(args.run, args.out, args.evaluate, args.n)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, self-contained: open it in a browser)")
    return 0
