"""The Jupyter GUIs in a real browser: a notebook served by Voila, driven in headless Chromium.

The notebook opens the fuzzy clustering, energy calibration and tilt correction
GUIs of a synthetic map; Playwright fills their fields and presses their
buttons as a user would, and the kernel writes what the signal holds to a JSON
file after every change, so the test checks both what the page shows (the
preview image) and what was stored (learning_results, axes).

Needs Debian's ``chromium`` package (``/usr/bin/chromium``) and the Python
packages ``voila`` and ``playwright`` (only its driver: the system browser is
used). Skipped, with the reason, where any of them is missing; ``.ci/run``
installs them.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytest.importorskip("voila", reason="the browser test needs voila (pip install voila)")
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="the browser test needs playwright (pip install playwright)"
)
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="the browser test needs Chromium (Debian package 'chromium')"
    ),
    pytest.mark.slow,
]

#: Flags for a headless Chromium on a machine without network or GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

NOTEBOOK_CELLS = [
    """\
import json, os, threading, time
import numpy as np
import hyperspy.api as hs
from hyperspy_cmeans.data import synthetic_eds_map

hs.preferences.GUIs.enable_ipywidgets_gui = True
s = synthetic_eds_map(shape=(48, 44), random_state=0)
energy = s.axes_manager.signal_axes[0]
true_scale, true_offset = energy.scale, energy.offset
energy.scale, energy.offset, energy.units = 1.0, 0.0, "channel"  # as exported, uncalibrated
for axis in s.axes_manager.navigation_axes:
    axis.scale, axis.units = 17.1875, "nm"

def dump():
    lr = s.learning_results
    am = s.axes_manager
    state = {
        "number_of_clusters": getattr(lr, "number_of_clusters", None),
        "membership_shape": None if lr.cluster_membership is None else list(lr.cluster_membership.shape),
        "energy_scale": am.signal_axes[0].scale, "energy_offset": am.signal_axes[0].offset,
        "true_scale": true_scale, "true_offset": true_offset,
        "x_scale": am.navigation_axes[0].scale, "y_scale": am.navigation_axes[1].scale,
    }
    tmp = os.environ["HSCM_STATE"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, os.environ["HSCM_STATE"])

def watch():
    while True:
        dump()
        time.sleep(0.3)

threading.Thread(target=watch, daemon=True).start()
""",
    "s.fuzzy_cluster()",
    "s.calibrate_energy_from_peaks(display=True, elements=['O', 'Mg', 'Al', 'Si', 'Ca', 'Ti', 'Fe'], exclude=['Pt', 'Ga'])",
    "s.tilt_correct_scale(display=True)",
]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_notebook(path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``(url, state_file)`` of the notebook served by Voila on localhost."""
    folder = tmp_path_factory.mktemp("voila")
    notebook = folder / "gui.ipynb"
    _write_notebook(notebook)
    state = folder / "state.json"
    port = _free_port()
    env = dict(os.environ, HSCM_STATE=str(state), MPLBACKEND="Agg")
    log = open(folder / "voila.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voila",
            str(notebook),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--VoilaConfiguration.show_tracebacks=True",
            "--MappingKernelManager.cull_idle_timeout=0",
        ],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if server.poll() is not None:
                pytest.fail(f"voila exited: {(folder / 'voila.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/", state
    finally:
        server.terminate()
        server.wait(30)
        log.close()


@pytest.fixture(scope="module")
def page(served):
    url, _ = served
    with playwright_api.sync_playwright() as p:  # a new, empty profile every time
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 2400})
        page.set_default_timeout(600_000)  # the kernel computes on a shared machine
        page.goto(url)
        page.get_by_text("Number of clusters").wait_for()
        yield page
        browser.close()


def _read_state(state, until, timeout=600):
    """The kernel's last state dump once ``until(state)`` holds."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        if Path(state).exists():
            last = json.loads(Path(state).read_text())
            if until(last):
                return last
        time.sleep(0.5)
    raise AssertionError(f"the kernel state never satisfied the condition: {last}")


def _field(page, label):
    """The input of the widget row labelled ``label``."""
    label = page.locator(".widget-label", has_text=label).first
    return label.locator("xpath=..").locator("input").first  # the label's own row


def _image_loaded(page, index):
    return page.evaluate(
        f"""() => {{
            const imgs = [...document.querySelectorAll('.widget-image')];
            const img = imgs[{index}];
            return img ? [img.naturalWidth, img.naturalHeight] : null;
        }}"""
    )


def test_fuzzy_cluster_gui_runs_in_the_browser(page, served, tmp_path):
    _, state = served
    assert page.get_by_text("Press Run to see the membership maps").is_visible()
    field = _field(page, "Number of clusters")
    field.fill("4")
    field.press("Enter")
    restarts = _field(page, "Restarts")
    restarts.fill("2")
    restarts.press("Enter")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("Run 1: 4 clusters stored in learning_results").wait_for()
    stored = _read_state(state, lambda s: s["number_of_clusters"] == 4)
    assert stored["membership_shape"] == [4, 48 * 44]
    width, height = _image_loaded(page, 0)
    assert width > 300 and height > 100  # the preview rendered, no broken image
    page.screenshot(path=tmp_path / "fuzzy_cluster_gui.png", full_page=True)


def test_calibration_and_tilt_guis_apply_in_the_browser(page, served, tmp_path):
    _, state = served
    assert page.get_by_text("Press Find peaks to see the peaks").is_visible()  # no broken image
    page.get_by_role("button", name="Find peaks").click()
    page.get_by_text("Found: scale").wait_for()
    assert _image_loaded(page, 1)[0] > 300  # the calibration plot rendered
    page.get_by_role("button", name="Apply").first.click()
    stored = _read_state(
        state, lambda s: abs(s["energy_scale"] - s["true_scale"]) < 1e-3 * s["true_scale"]
    )
    assert abs(stored["energy_offset"] - stored["true_offset"]) < stored["true_scale"]
    tilt = _field(page, "Stage tilt")
    tilt.fill("52")
    tilt.press("Enter")
    page.get_by_role("button", name="Apply").last.click()
    stored = _read_state(state, lambda s: abs(s["y_scale"] - 21.81125) < 0.01)
    assert stored["x_scale"] == pytest.approx(17.1875)
    page.screenshot(path=tmp_path / "all_guis.png", full_page=True)
