"""`ganforge serve` without a browser: the training dashboard's content, the command's
checks, the default address, and two requests at once through Gradio's own client."""

import threading

import pytest
from PIL import Image

import ganforge
from ganforge_web.server import dashboard, serve_main

PROMPT = "a small red star on a blue background"


def test_the_dashboard_shows_curves_previews_and_configuration(image_run):
    status, losses, other, gallery, audio, text, metrics, config = dashboard(str(image_run))
    assert status.startswith("image:dcgan · step 12/12 · checkpoint saved · d_loss")
    assert isinstance(losses, Image.Image) and losses.width >= 600
    assert isinstance(other, Image.Image)  # d_real, d_fake
    assert [caption for _, caption in gallery] == ["step 4", "step 8", "step 12"]
    assert audio is None and text is None and metrics == []
    assert ["image_size", "16", "yes"] in config and ["tensorboard", "true", "yes"] in config


def test_the_dashboard_of_an_audio_run_plays_its_last_preview(audio_run):
    _, _, _, gallery, audio, text, _, _ = dashboard(str(audio_run))
    assert len(gallery) == 2 and audio.endswith("step_0000004.wav") and text is None


@pytest.mark.parametrize("argv, message", [
    (["--", "--port", "0"], "--port must be from 1 to 65535, got 0"),
    (["--runs", "/no/such/folder"], "--runs /no/such/folder is not a folder"),
])
def test_bad_options_are_one_line_errors(argv, message):
    with pytest.raises(ganforge.GanforgeError, match=message):
        serve_main(argv)


def test_it_binds_to_this_computer_only_unless_told(server, capsys):
    url, app = server
    assert url.startswith("http://127.0.0.1:") and app.server_name == "127.0.0.1"
    with pytest.raises(SystemExit):
        serve_main(["--help"])
    assert "default 127.0.0.1" in " ".join(capsys.readouterr().out.split())


def test_two_requests_at_once_are_both_answered(server, tmp_path):
    gradio_client = pytest.importorskip("gradio_client")
    url, app = server
    answers, errors = {}, []

    def ask(seed):
        try:
            client = gradio_client.Client(url, verbose=False, download_files=str(tmp_path / f"d{seed}"))
            answers[seed] = client.predict("shapes-t2i", PROMPT, "", seed, 3, 1.0, 1.0, api_name="/on_generate")
        except Exception as e:  # reported below, with the thread's answer missing
            errors.append(e)

    threads = [threading.Thread(target=ask, args=(s,)) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and sorted(answers) == [1, 2]
    for seed, (note, gallery, other, downloads) in answers.items():
        assert note.startswith("3 images in")
        assert len(gallery) == 3 and len(downloads) == 4
