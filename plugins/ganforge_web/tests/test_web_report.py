"""`ganforge report`: one self-contained HTML file with its plots, previews, configuration, metrics."""

import base64
import io
import json
import re
import shutil
import subprocess
import sys

import pytest
from PIL import Image

import ganforge
from ganforge_web.report import report_main

from web_testing import listing

DATA_PNG = re.compile(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'")


def pictures(text):
    return [Image.open(io.BytesIO(base64.b64decode(m))) for m in DATA_PNG.findall(text)]


def test_the_report_goes_into_the_run_and_holds_its_plots_and_previews(image_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(image_run, run)
    (run / "metrics.json").write_text(json.dumps({"feature_space": "image-rotation", "fd": 12.5, "class_acc": 0.75}))
    assert report_main([str(run)]) == 0
    assert f"wrote {run / 'report.html'}" in capsys.readouterr().out
    text = (run / "report.html").read_text()
    found = pictures(text)
    # the loss plot, the other curves (d_real, d_fake), and the 3 previews (steps 4, 8, 12)
    assert len(found) == 5
    loss_plot = found[0]
    assert loss_plot.width >= 600 and len(set(loss_plot.convert("L").tobytes())) > 20  # drawn, not blank
    assert [int(s) for s in re.findall(r"<figcaption>step (\d+)</figcaption>", text)] == [4, 8, 12]
    assert "<td>image_size</td><td class='v'>16</td>" in text and "class='user'" in text
    assert "<td>fd</td><td class='v'>12.5000</td>" in text and "image-rotation" in text
    assert not re.search(r"(src|href)=['\"](?!data:)", text)  # nothing fetched from elsewhere


def test_report_out_writes_nothing_into_the_run(image_run, tmp_path):
    before = listing(image_run)
    assert report_main([str(image_run), "--out", str(tmp_path / "elsewhere")]) == 0
    assert (tmp_path / "elsewhere" / "report.html").stat().st_size > 10_000
    assert listing(image_run) == before


def test_an_audio_run_report_embeds_its_spectrograms_and_last_audio(audio_run, tmp_path):
    assert report_main([str(audio_run), "--out", str(tmp_path)]) == 0
    text = (tmp_path / "report.html").read_text()
    assert len(pictures(text)) == 2 + 2  # losses, others (wasserstein, gp), two spectrogram previews
    assert re.search(r"<audio controls src='data:audio/wav;base64,UklGR", text)  # a RIFF (WAV) file


@pytest.mark.parametrize("argv, message", [
    (["{tmp}/nothing"], "is not a run folder (it has no ganforge.json)"),
    (["{run}", "--out", "{run}/ganforge.json"], "it is a file; choose another --out folder"),
])
def test_bad_input_is_a_one_line_error(image_run, tmp_path, argv, message):
    with pytest.raises(ganforge.GanforgeError) as e:
        report_main([a.format(tmp=tmp_path, run=image_run) for a in argv])
    assert message in str(e.value) and "\n" not in str(e.value)


def test_the_ganforge_command_runs_it(image_run, tmp_path):
    """Through the entry point, as a user types it (`ganforge report RUN --out DIR`)."""
    done = subprocess.run([sys.executable, "-m", "ganforge", "report", str(image_run), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report.html").is_file() and "self-contained" in done.stdout
