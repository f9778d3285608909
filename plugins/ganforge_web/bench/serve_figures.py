"""The issue's figures for `ganforge serve` (never run by pytest):

- time from a page request to the first image of the shipped prompt model (a fresh server,
  a fresh headless chromium page: load, type a prompt, click Generate, first image shown);
- the server's memory (resident set) once three models are loaded.

    python plugins/ganforge_web/bench/serve_figures.py --runs RUNS_FOLDER MODEL_A MODEL_B
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", required=True)
    parser.add_argument("models", nargs=2, help="two more models to load beside shapes-t2i (run folders)")
    args = parser.parse_args()
    from gradio_client import Client
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "ganforge", "serve", "--", "--runs", args.runs, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    try:
        import urllib.request

        for _ in range(120):  # until it answers
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        figures = {"idle_rss_mb": round(rss_mb(server.pid), 1)}
        url = f"http://127.0.0.1:{port}/"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(url)
            page.wait_for_selector("#prompt textarea", state="visible", timeout=60_000)
            page.fill("#prompt textarea", "a small red star on a blue background")
            page.click("#generate")
            page.wait_for_selector("#gallery img", timeout=60_000)
            figures["page_request_to_first_image_s"] = round(time.perf_counter() - start, 2)
            browser.close()
        client = Client(url, verbose=False)
        for model in args.models:
            client.predict(model, "", "", 0, 8, 1.0, 1.0, api_name="/on_generate")
        figures["rss_three_models_mb"] = round(rss_mb(server.pid), 1)
        print(json.dumps(figures))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
