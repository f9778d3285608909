"""``ganforge push RUN user/name``: share a run on the Hugging Face Hub, with a model card.

What is uploaded is what generation needs, as ``ganforge export`` writes it (ganforge.json,
the EMA generator and a trainable encoder as safetensors; no discriminator, no optimiser,
no pickle), a sample grid and a README.md model card: the recipe, the options set, the
data it learned from, its metrics, the samples. Anyone then runs::

    ganforge generate hf:user/name --out samples/
    ganforge.load("hf:user/name").generate(n=16)

Python::

    from ganforge_web.hub import build_upload, push
    folder = build_upload("runs/shapes", "upload/", "me/shapes")   # look before you push
    push("runs/shapes", "me/shapes")
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import ganforge

from . import runs
from .cli import parse

REPO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
GRID_SAMPLES = 16
PIPELINE_TAGS = {("images", "prompt"): "text-to-image", ("images", None): "unconditional-image-generation",
                 ("images", "class"): "unconditional-image-generation", ("audio", "prompt"): "text-to-audio",
                 ("audio", None): "audio-to-audio", ("texts", None): "text-generation"}


def check_repo(repo: str) -> str:
    if not isinstance(repo, str) or not REPO_NAME.match(repo):
        raise ganforge.GanforgeError(f"'{repo}' is not a Hub repository name; write user/name (letters, digits, . _ -)")
    return repo


def _export(run: Path, out: Path, half: bool) -> None:
    """`ganforge export RUN --out OUT`, the public command, in a process of its own."""
    command = [sys.executable, "-m", "ganforge", "export", str(run), "--out", str(out)] + (["--half"] if half else [])
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["ganforge export failed"])[-1]
        raise ganforge.GanforgeError(message.removeprefix("error: "))


def _sample_grid(folder: Path, run: Path, prompts) -> list[str]:
    """The card's samples: a grid from the exported model itself (what hf:user/name makes);
    for a prompt model without --prompt, the run's last training preview."""
    pipe = ganforge.load(folder, device="cpu")
    condition = pipe.encoder.user_option if pipe.encoder is not None else None
    if condition != "prompt" or prompts:
        with tempfile.TemporaryDirectory() as tmp:
            kwargs = {"prompts": list(prompts)} if prompts and condition == "prompt" else {}
            paths = pipe.generate_to(tmp, n=GRID_SAMPLES, seed=0, **kwargs)
            grids = [p for p in paths if Path(p).name.startswith("sample_grid")]
            names = []
            for p in grids:
                shutil.copy(p, folder / Path(p).name)
                names.append(Path(p).name)
            return names
    previews = runs.previews(run)
    names = []
    if previews:
        for suffix, path in previews[-1].files.items():
            shutil.copy(path, folder / f"sample_grid.{suffix}")
            names.append(f"sample_grid.{suffix}")
    return names


def model_card(repo: str, info: dict, metrics: list[dict], grids: list[str], pipe_kind: str,
               condition: str | None, classes: list[str], prompts) -> str:
    """README.md for the Hub: front matter, how to use it, samples, training, data, metrics."""
    recipe = info.get("recipe", "?")
    config, user = info.get("config") or {}, info.get("user_config") or {}
    tag = PIPELINE_TAGS.get((pipe_kind, condition)) or PIPELINE_TAGS.get((pipe_kind, None))
    modality = {"images": "image-generation", "audio": "audio-generation", "texts": "text-generation"}.get(pipe_kind)
    tags = ["ganforge", "gan", recipe.split(":")[-1]] + ([modality] if modality else [])
    front = ["---", "library_name: ganforge", "tags:"] + [f"- {t}" for t in tags]
    if tag:
        front.append(f"pipeline_tag: {tag}")
    front.append("---")
    option = {"prompt": f' --prompt "{(list(prompts) or ["a prompt like the training captions"])[0]}"',
              "class": f" --class {classes[0]}" if classes else " --class NAME"}.get(condition or "", "")
    python_arg = {"prompt": ', prompts=["..."]', "class": f', classes=["{classes[0] if classes else "NAME"}"]'}.get(
        condition or "", "")
    plugins = sorted({(p.get("distribution") or name) for name, p in (info.get("plugins") or {}).items()})
    lines = front + [
        f"# {repo}", "",
        f"A generative adversarial network made with [ganforge](https://pypi.org/project/ganforge/): recipe "
        f"`{recipe}`, trained {info.get('step', '?')} steps. It makes {pipe_kind}"
        + {"prompt": " from a prompt", "class": f" of a class ({', '.join(classes)})"}.get(condition or "", "") + ".", "",
        "## Use it", "", "```",
        f"pip install {' '.join(plugins) if plugins else 'ganforge'}",
        f"ganforge generate hf:{repo} --out samples/ -n 16{option}", "```", "", "```python", "import ganforge",
        f'pipe = ganforge.load("hf:{repo}")',
        f"result = pipe.generate(n=16, seed=0{python_arg})", "result.save(\"samples/\")", "```", "",
        "Only JSON and safetensors files are downloaded (no pickle); the model is cached after the first use "
        "and loads offline.", ""]
    lines += ["## Samples", ""]
    pictures = [g for g in grids if g.endswith(".png")]
    sounds = [g for g in grids if g.endswith(".wav")]
    texts = [g for g in grids if g.endswith(".txt")]
    if not grids:
        lines.append("No samples: give `ganforge push ... --prompt TEXT` for a grid from a prompt model.")
    lines += [f"![samples]({g})" for g in pictures] + [f"Listen: [{g}]({g})" for g in sounds]
    lines += [f"Listing: [{g}]({g})" for g in texts]
    lines += ["", "## Training", "", "| | |", "|---|---|", f"| recipe | `{recipe}` |"]
    lines += [f"| {k} | `{v}` |" for k, v in (info.get("components") or {}).items() if v and k != "modality"]
    lines += [f"| steps | {info.get('step')} |", f"| ganforge | {info.get('ganforge_version', '?')} |"]
    if user:
        lines += ["", "Options set for this run (the others are the recipe's defaults):", "",
                  "| option | value |", "|---|---|"] + [f"| {k} | `{json.dumps(config.get(k, v))}` |"
                                                     for k, v in sorted(user.items())]
    lines += ["", "## Data", "", f"- folder: `{Path(str(info.get('data', '?'))).name}`",
              f"- modality: `{(info.get('components') or {}).get('modality', '?')}`"]
    for key, value in sorted((info.get("modality_state") or {}).items()):
        text = json.dumps(value)
        if len(text) <= 200:
            lines.append(f"- {key}: `{text}`")
    lines += ["", "## Metrics", ""]
    if not metrics:
        lines.append("Not evaluated (`ganforge report RUN --evaluate DATA` keeps scores with the run).")
    for record in metrics:
        lines += ["| metric | value |", "|---|---|"]
        lines += [f"| {k} | {f'{v:.4f}' if isinstance(v, float) else v} |" for k, v in record.items()] + [""]
    return "\n".join(lines).rstrip() + "\n"


def build_upload(run, out, repo: str, prompts=None, half: bool = False) -> Path:
    """Write the upload set of ``run`` into ``out`` (a new folder) and return it."""
    run, out = Path(run), Path(out)
    check_repo(repo)
    info = runs.read_info(run)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ganforge.GanforgeError(f"{out} already exists and is not empty; choose a new folder")
    if out.is_dir():
        out.rmdir()
    _export(run, out, half)
    shared = json.loads((out / runs.RUN_FILE).read_text(encoding="utf-8"))
    shared["data"] = Path(str(shared.get("data", ""))).name  # the folder's name, not a path on your disk
    (out / runs.RUN_FILE).write_text(json.dumps(shared, indent=2), encoding="utf-8")
    grids = _sample_grid(out, run, prompts)
    pipe = ganforge.load(out, device="cpu")
    kind = getattr(pipe.modality, "result_kind", None) or "samples"
    condition = pipe.encoder.user_option if pipe.encoder is not None else None
    classes = list(pipe.modality.class_names()) if condition == "class" else []
    card = model_card(repo, {**info, "step": shared.get("step", info.get("step"))}, runs.metrics(run), grids, kind,
                      condition, classes, prompts or [])
    (out / "README.md").write_text(card, encoding="utf-8")
    return out


def _hf_api(token=None):
    try:
        from huggingface_hub import HfApi
    except ModuleNotFoundError:
        raise ganforge.GanforgeError("ganforge push needs huggingface_hub: pip install huggingface_hub") from None
    return HfApi(token=token)


def push(run, repo: str, private: bool = False, token: str | None = None, prompts=None, half: bool = False,
         message: str | None = None) -> str:
    """Upload ``run`` to ``repo`` (created if needed); return the repository's URL."""
    check_repo(repo)
    runs.read_info(run)  # a clear error before any work
    api = _hf_api(token)
    url = _ask_hub(repo, lambda: api.create_repo(repo, private=private, exist_ok=True))  # refused: before any work
    with tempfile.TemporaryDirectory(prefix="ganforge-push-") as tmp:
        folder = build_upload(run, Path(tmp) / "upload", repo, prompts, half)
        _ask_hub(repo, lambda: api.upload_folder(repo_id=repo, folder_path=str(folder), commit_message=message
                                                 or f"ganforge push of {Path(run).resolve().name}"))
    return str(url) if url else f"https://huggingface.co/{repo}"


def _ask_hub(repo: str, call):
    """``call()``, with the Hub's errors (not logged in, no right to the name, no network) as one line."""
    try:
        return call()
    except Exception as e:
        name = type(e).__name__
        if "Token" in name or "401" in str(e) or "403" in str(e):
            raise ganforge.GanforgeError(f"the Hub refused {repo}: log in with `hf auth login` (a token with write "
                                         f"access to {repo.split('/')[0]}) or pass --token") from None
        first = str(e).strip().splitlines()[0] if str(e).strip() else name
        raise ganforge.GanforgeError(f"pushing to {repo} failed: {first}") from None


def push_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ganforge push", description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="run folder (the --out of ganforge train)")
    parser.add_argument("repo", help="Hub repository: user/name (created if it does not exist)")
    parser.add_argument("--private", action="store_true", help="make a new repository private")
    parser.add_argument("--token", help="a Hub token with write access (default: `hf auth login`'s or HF_TOKEN)")
    parser.add_argument("--prompt", action="append", help="prompt(s) for the card's sample grid (prompt models)")
    parser.add_argument("--half", action="store_true", help="upload the weights in half precision (half the size)")
    parser.add_argument("--message", help="commit message")
    parser.add_argument("--dry-run", metavar="DIR", help="write what would be uploaded into DIR and stop")
    args = parse(parser, argv)
    if args.dry_run:
        folder = build_upload(args.run, args.dry_run, args.repo, args.prompt, args.half)
        files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        print(f"wrote the upload set of {args.repo} to {folder}: " + ", ".join(files))
        return 0
    url = push(args.run, args.repo, args.private, args.token, args.prompt, args.half, args.message)
    print(f"pushed {args.run} to {url}")
    print(f"anyone can now run: ganforge generate hf:{args.repo} --out samples/")
    return 0
