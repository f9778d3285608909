"""``ganforge serve``: a local page in the browser (Gradio).

*Generate*: pick a run folder, a shipped model (``shapes-t2i``) or ``hf:user/name``; type a
prompt or pick a class; set the seed, how many, truncation or temperature where the model
has them; get a gallery of images, audio players with their spectrograms, or text. Each
sample downloads as a ZIP with its file and its ``metadata.jsonl`` line. Requests queue
(one generation at a time); results go to a folder of the server's own, never into a run.

*Training*: a run's loss curves, its previews over time, its metrics and configuration,
re-read every few seconds while a training writes the run.

Binds to 127.0.0.1 unless ``--host`` says otherwise.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import ganforge

from . import plots, runs
from .cli import parse
from .generation import MAX_SAMPLES, Models

REFRESH_SECONDS = 5
MAX_PREVIEWS = 24

CSS = """
.gf-header h1 {margin-bottom: 0}
.gf-header p {color: var(--body-text-color-subdued); margin-top: 2px}
.gf-audio {display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px}
.gf-audio figure {margin: 0; padding: 8px; border: 1px solid var(--border-color-primary); border-radius: 8px}
.gf-audio img {width: 100%; height: 150px; object-fit: fill; image-rendering: pixelated; border-radius: 4px}
.gf-audio audio {width: 100%; margin-top: 6px}
.gf-audio figcaption, .gf-texts li small {color: var(--body-text-color-subdued); font-size: 0.85em}
.gf-texts li {margin: 4px 0; font-family: var(--font-mono)}
"""


def _model_choices(root: Path) -> list[tuple[str, str]]:
    """(label, value) for the shipped models, then the runs under ``root``."""
    choices = []
    for entry in ganforge.get_registry().entries("model"):
        choices.append((f"{entry.name} (shipped by {entry.plugin})", entry.name))
    for run in runs.find_runs(root):
        try:
            label = str(run.relative_to(root)) if run != root else run.name
        except ValueError:
            label = str(run)
        choices.append((f"{label} (run)", str(run)))
    return choices


def _run_choices(root: Path) -> list[tuple[str, str]]:
    out = []
    for run in runs.find_runs(root):
        try:
            label = str(run.relative_to(root)) if run != root else run.name
        except ValueError:
            label = str(run)
        out.append((label, str(run)))
    return out


def _file_url(path: Path) -> str:
    return "/gradio_api/file=" + quote(str(path))


def _audio_html(made) -> str:
    cards = []
    for f, picture, record in zip(made.files, made.pictures, made.records):
        caption = html.escape(_caption(record))
        image = f"<img src='{_file_url(picture)}' alt='spectrogram'>" if picture is not None else ""
        cards.append(f"<figure>{image}<audio controls preload='none' src='{_file_url(f)}'></audio>"
                     f"<figcaption>{caption}</figcaption></figure>")
    return f"<div class='gf-audio'>{''.join(cards)}</div>"


def _texts_html(made) -> str:
    items = "".join(f"<li>{html.escape(t)} <small>({html.escape(_caption(r))})</small></li>"
                    for t, r in zip(made.texts, made.records))
    return f"<ol class='gf-texts'>{items}</ol>"


def _caption(record: dict) -> str:
    parts = [f"seed {record.get('seed')}"]
    for key in ("class", "prompt"):
        if key in record:
            parts.append(str(record[key]))
    return " · ".join(parts)


def _read_picture(path: Path):
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("RGB")


def _png(data: bytes):
    import io

    from PIL import Image

    return Image.open(io.BytesIO(data)).convert("RGB")


def _signature(run: Path) -> tuple:
    """Changes when the training writes something the dashboard shows."""
    parts = []
    for name in ("ganforge.json", "log.jsonl", "samples", "metrics.json", "metrics.jsonl"):
        try:
            st = (run / name).stat()
            parts.append((name, st.st_mtime_ns, st.st_size))
        except OSError:
            parts.append((name, None))
    return tuple(parts)


def dashboard(run_path: str):
    """What the Training tab shows for ``run_path``: status, curves, previews, metrics, config."""
    run = Path(run_path)
    info = runs.read_info(run)
    records = runs.read_log(run)
    c = runs.curves(records)
    losses = _png(plots.curves_png(c.losses(), "losses", c.phases))
    others = c.others()
    other = _png(plots.curves_png(others, "discriminator outputs and other values", c.phases)) if others else None
    previews = runs.spread(runs.previews(run), MAX_PREVIEWS)
    gallery = [(_read_picture(p.picture()), f"step {p.step}") for p in previews if p.picture() is not None]
    last = previews[-1] if previews else None
    audio = str(last.files["wav"]) if last is not None and "wav" in last.files else None
    text = None
    if last is not None and "txt" in last.files:
        text = f"step {last.step}\n" + last.files["txt"].read_text(encoding="utf-8", errors="replace")
    metrics = runs.metrics(run)
    config = [[k, v, "yes" if user else ""] for k, v, user in runs.config_rows(info)]
    return runs.status(run, info, records), losses, other, gallery, audio, text, metrics, config


def build_app(root=".", cache=None, device: str = "cpu", model: str | None = None):
    """The page as a ``gradio.Blocks``, with a queue (one generation at a time)."""
    import gradio as gr

    root = Path(root).resolve()
    cache = Path(cache) if cache else Path(tempfile.mkdtemp(prefix="ganforge-serve-"))
    models = Models(cache, device=device)
    choices = _model_choices(root)
    if model and model not in [value for _, value in choices]:
        choices.insert(0, (str(model), str(model)))  # a path or hf: name the user asked for
    first = str(model) if model else (choices[0][1] if choices else None)

    def on_model(name):
        try:
            info = models.info(name)
        except ganforge.GanforgeError as e:
            raise gr.Error(str(e)) from None
        return (info.describe(),
                gr.update(visible=info.condition == "prompt"),
                gr.update(visible=info.condition == "class", choices=[("every class in turn", "")] +
                          [(c, c) for c in info.classes], value=""),
                gr.update(visible=info.truncation),
                gr.update(visible=info.temperature))

    def on_generate(name, prompt, class_name, seed, count, truncation, temperature):
        try:
            made = models.generate(name, n=int(count), seed=int(seed or 0), prompt=prompt, class_name=class_name or None,
                                   truncation=truncation, temperature=temperature)
        except ganforge.GanforgeError as e:
            raise gr.Error(str(e)) from None
        word = {"audio": "sounds", "texts": "texts", "images": "images"}.get(made.kind, made.kind)
        note = f"{len(made.files)} {word} in {made.seconds:.2f} s"
        images = made.kind == "images"
        gallery = [(str(p), _caption(r)) for p, r in zip(made.pictures, made.records)] if images else []
        other = _audio_html(made) if made.kind == "audio" else _texts_html(made) if made.kind == "texts" else ""
        return (note, gr.update(value=gallery, visible=images), gr.update(value=other, visible=not images),
                [str(p) for p in made.downloads])

    def on_run(run_path, last_signature, force=True):
        if not run_path:
            return ("choose a run",) + (gr.skip(),) * 7 + (last_signature,)
        run = Path(run_path)
        signature = _signature(run)
        if not force and signature == last_signature:
            return (gr.skip(),) * 8 + (last_signature,)
        try:
            status, losses, other, gallery, audio, text, metrics, config = dashboard(run_path)
        except ganforge.GanforgeError as e:
            raise gr.Error(str(e)) from None
        return (status, losses, gr.update(value=other, visible=other is not None), gallery,
                gr.update(value=audio, visible=audio is not None), gr.update(value=text, visible=text is not None),
                metrics or {"note": "no metrics yet: `ganforge report RUN --evaluate DATA` keeps some with the run"},
                config, signature)

    def on_tick(run_path, live, last_signature):
        if not live or not run_path:
            return (gr.skip(),) * 9
        return on_run(run_path, last_signature, force=False)

    def on_rescan():
        return gr.update(choices=_model_choices(root)), gr.update(choices=_run_choices(root))

    theme = gr.themes.Soft(primary_hue="indigo")
    with gr.Blocks(title="ganforge", analytics_enabled=False) as app:
        with gr.Row(elem_classes="gf-header"):
            gr.Markdown(f"# ganforge\nMake images, sounds and text with trained GANs · runs under `{root}`")
        with gr.Tabs():
            with gr.Tab("Generate", id="generate"):
                with gr.Row():
                    with gr.Column(scale=1, min_width=300):
                        model = gr.Dropdown(choices=choices, value=first, allow_custom_value=True, label="Model",
                                            info="a shipped model, a run folder, or hf:user/name", elem_id="model")
                        about = gr.Markdown(elem_id="about")
                        prompt = gr.Textbox(label="Prompt", lines=2, visible=False, elem_id="prompt",
                                            placeholder="describe it the way the training captions did")
                        class_name = gr.Dropdown(choices=[("every class in turn", "")], value="", label="Class",
                                                 visible=False, allow_custom_value=True, elem_id="class")
                        with gr.Row():
                            seed = gr.Number(value=0, precision=0, minimum=0, label="Seed", elem_id="seed",
                                             min_width=90, scale=1)
                            count = gr.Slider(1, MAX_SAMPLES, value=8, step=1, label="How many", elem_id="count",
                                              min_width=160, scale=2)
                        truncation = gr.Slider(0.0, 1.0, value=1.0, step=0.05, label="Truncation", visible=False,
                                               info="lower: more typical, less varied")
                        temperature = gr.Slider(0.1, 2.0, value=1.0, step=0.05, label="Temperature", visible=False,
                                                info="lower: safer text, higher: more surprising")
                        button = gr.Button("Generate", variant="primary", elem_id="generate")
                        rescan = gr.Button("Find new runs", size="sm", variant="secondary")
                    with gr.Column(scale=2):
                        note = gr.Markdown(elem_id="note")
                        gallery = gr.Gallery(label="Results", columns=4, height="auto", object_fit="contain",
                                             elem_id="gallery", buttons=["download", "fullscreen"])
                        other = gr.HTML(visible=False, elem_id="other")
                        downloads = gr.File(label="Downloads: each sample with its metadata.jsonl line (ZIP), "
                                                  "and all of them", file_count="multiple", elem_id="downloads", height=260)
            with gr.Tab("Training", id="training"):
                with gr.Row():
                    run = gr.Dropdown(choices=_run_choices(root), value=None, allow_custom_value=True, label="Run",
                                      info="a run folder (the --out of ganforge train)", scale=4, elem_id="run")
                    live = gr.Checkbox(value=True, label=f"refresh every {REFRESH_SECONDS} s", scale=1)
                status = gr.Markdown(elem_id="run-status")
                with gr.Row():
                    loss_plot = gr.Image(label="losses", type="pil", show_label=False, elem_id="loss-plot")
                    other_plot = gr.Image(label="other values", type="pil", show_label=False, visible=False)
                previews = gr.Gallery(label="Previews over time", columns=4, height="auto", object_fit="contain",
                                      elem_id="previews")
                preview_audio = gr.Audio(label="last preview", visible=False, type="filepath")
                preview_text = gr.Textbox(label="last preview", lines=10, visible=False)
                with gr.Row():
                    metrics = gr.JSON(label="Metrics (ganforge evaluate)")
                    config = gr.Dataframe(headers=["option", "value", "set by you"], label="Configuration",
                                          interactive=False, wrap=True)
                signature = gr.State(None)
                timer = gr.Timer(REFRESH_SECONDS)

        controls = [about, prompt, class_name, truncation, temperature]
        model.change(on_model, model, controls, queue=False)
        app.load(on_model, model, controls, queue=False) if first else None
        button.click(on_generate, [model, prompt, class_name, seed, count, truncation, temperature],
                     [note, gallery, other, downloads], concurrency_limit=1, concurrency_id="generate")
        prompt.submit(on_generate, [model, prompt, class_name, seed, count, truncation, temperature],
                      [note, gallery, other, downloads], concurrency_limit=1, concurrency_id="generate")
        rescan.click(on_rescan, None, [model, run], queue=False)
        dash = [status, loss_plot, other_plot, previews, preview_audio, preview_text, metrics, config, signature]
        run.change(on_run, [run, signature], dash)
        timer.tick(on_tick, [run, live, signature], dash, show_progress="hidden")
    app.queue(default_concurrency_limit=1)
    app.ganforge_models = models  # for tests and the memory figure
    app.ganforge_cache = cache
    app.ganforge_theme, app.ganforge_css = theme, CSS
    return app


def launch(app, host: str = "127.0.0.1", port: int = 7860, block: bool = True):
    """Serve ``app``; ``block=False`` returns at once (tests)."""
    return app.launch(server_name=host, server_port=port, allowed_paths=[str(app.ganforge_cache)],
                      prevent_thread_lock=not block, quiet=not block, show_error=True,
                      theme=app.ganforge_theme, css=app.ganforge_css, footer_links=[])


def serve_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ganforge serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this computer only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--runs", default=".", help="folder searched for runs (default: the current folder)")
    parser.add_argument("--cache", help="folder for generated files (default: a new temporary folder)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    parser.add_argument("--model", help="the model chosen when the page opens: a shipped model's name, a run "
                        "or hf:user/name (default: the first shipped model)")
    args = parse(parser, argv)
    if not 0 < args.port < 65536:
        raise ganforge.GanforgeError(f"--port must be from 1 to 65535, got {args.port}")
    if not Path(args.runs).is_dir():
        raise ganforge.GanforgeError(f"--runs {args.runs} is not a folder")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        import gradio  # noqa: F401
    except ModuleNotFoundError:
        raise ganforge.GanforgeError("ganforge serve needs gradio: pip install ganforge-web") from None
    app = build_app(args.runs, args.cache, args.device, args.model)
    print(f"ganforge: serving on http://{args.host}:{args.port} (Ctrl-C stops); generated files go to "
          f"{app.ganforge_cache}", file=sys.stderr)
    try:
        launch(app, args.host, args.port)
    except OSError as e:
        raise ganforge.GanforgeError(f"cannot serve on {args.host}:{args.port} ({e.strerror or e}); "
                                     f"choose another --port") from None
    return 0
