"""The page in a real headless browser (Debian's chromium, driven by Playwright): load it,
type a prompt, generate N images, download one, two pages asking at once, the training tab.
Screenshots are kept in plugins/ganforge_web/test-artifacts/ (ignored by git)."""

import json
import shutil
import time
import zipfile
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
try:
    from playwright.sync_api import sync_playwright
except ModuleNotFoundError:
    sync_playwright = None
if CHROMIUM is None or sync_playwright is None:
    pytest.skip("browser tests need chromium (apt-get install chromium) and playwright (pip install playwright)",
                allow_module_level=True)

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PROMPT = "a small red star on a blue background"
TIMEOUT = 60_000


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    page.wait_for_selector("#prompt textarea", state="visible")  # the shipped prompt model is chosen
    return page


def ask(page, prompt, seed, count):
    page.fill("#seed input", str(seed))
    page.fill("#count input[type=number]", str(count))
    page.locator("#count input[type=number]").press("Enter")
    page.fill("#prompt textarea", prompt)
    page.click("#generate")


def wait_for_images(page, n):
    page.wait_for_function(f"document.querySelectorAll('#gallery img').length === {n}", timeout=TIMEOUT)


def note_after_generating(page):
    """The note's text once Gradio has taken its "processing" overlay off it (the gallery
    can show the images a moment before that)."""
    page.wait_for_function("!document.querySelector('#note').innerText.includes('processing')", timeout=TIMEOUT)
    return page.inner_text("#note").strip()


def test_a_prompt_makes_n_images_and_one_downloads_with_its_metadata(browser, server, tmp_path):
    url, _ = server
    start = time.perf_counter()
    page = open_page(browser, url)
    ask(page, PROMPT, 3, 5)
    page.wait_for_selector("#gallery img")
    first_image = time.perf_counter() - start
    wait_for_images(page, 5)
    assert note_after_generating(page).startswith("5 images in")
    links = page.locator("#downloads a[download]")
    assert links.count() == 6  # one ZIP per sample and all of them
    with page.expect_download() as download:
        links.first.click()
    saved = tmp_path / "one.zip"
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as z:
        assert sorted(z.namelist()) == ["metadata.jsonl", "sample_00000.png"]
        record = json.loads(z.read("metadata.jsonl"))
    assert record["prompt"] == PROMPT and record["file_name"] == "sample_00000.png" and record["run"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "generate.png"), full_page=True)
    (ARTIFACTS / "timings.json").write_text(json.dumps({"page_request_to_first_image_s": round(first_image, 2)}))
    page.close()


def test_two_pages_asking_at_once_are_both_answered(browser, server):
    url, _ = server
    pages = [open_page(browser, url) for _ in range(2)]
    for seed, page in enumerate(pages):
        ask(page, PROMPT, 10 + seed, 3)
    for page in pages:
        wait_for_images(page, 3)
        assert note_after_generating(page).startswith("3 images in")
        page.close()


def test_the_training_tab_shows_a_runs_curves_and_previews(browser, server, image_run):
    url, _ = server
    page = open_page(browser, url)
    page.get_by_role("tab", name="Training").click()
    page.fill("#run input", str(image_run))
    page.locator("#run input").press("Enter")
    page.wait_for_selector("#loss-plot img")
    page.wait_for_function("document.querySelectorAll('#previews img').length === 3", timeout=TIMEOUT)
    assert "step 12/12" in page.inner_text("#run-status")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "training.png"), full_page=True)
    page.close()


@pytest.mark.slow  # left out of the default run: pytest -m slow
def test_the_training_tab_follows_a_run_as_it_trains(browser, server, image_run, tmp_path):
    url, _ = server
    run = tmp_path / "training"
    shutil.copytree(image_run, run)
    page = open_page(browser, url)
    page.get_by_role("tab", name="Training").click()
    page.fill("#run input", str(run))
    page.locator("#run input").press("Enter")
    page.wait_for_function("document.querySelector('#run-status').innerText.includes('step 12/12')")
    with open(run / "log.jsonl", "a") as log:  # the training writes on
        log.write(json.dumps({"step": 14, "phase": "train", "d_loss": 0.5, "g_loss": 2.0}) + "\n")
    page.wait_for_function("document.querySelector('#run-status').innerText.includes('step 14/12')",
                           timeout=20_000)  # the next refresh (every 5 s) shows it
    assert "g_loss 2.0000" in page.inner_text("#run-status")
    page.close()


@pytest.mark.slow  # left out of the default run: pytest -m slow
def test_an_audio_run_gives_players_with_spectrograms(browser, server, audio_run):
    url, _ = server
    page = open_page(browser, url)
    page.fill("#model input", str(audio_run))
    page.locator("#model input").press("Enter")
    page.wait_for_selector("#prompt textarea", state="hidden")  # this model takes no prompt
    page.fill("#count input[type=number]", "2")
    page.locator("#count input[type=number]").press("Enter")
    page.click("#generate")
    page.wait_for_function("document.querySelectorAll('#other audio').length === 2", timeout=TIMEOUT)
    assert page.inner_text("#note").strip().startswith("2 sounds in")
    for kind in ("audio", "img"):  # the server hands out the WAV and its spectrogram
        src = page.locator(f"#other {kind}").first.get_attribute("src")
        status, head = page.evaluate("async (u) => { const r = await fetch(u); const b = new Uint8Array("
                                     "await r.arrayBuffer()); return [r.status, Array.from(b.slice(0, 4))]; }", src)
        assert status == 200 and bytes(head) == (b"RIFF" if kind == "audio" else b"\x89PNG")
    page.close()
