"""The command line: ``hyperspy-cmeans demo`` and its options (the runs are in test_demo)."""

import subprocess
import sys

import pytest

from hyperspy_cmeans import _cli, _demo


@pytest.fixture
def calls(monkeypatch):
    """Record the demo runs instead of running them; their summary's ``ok`` is settable."""
    record = {"ok": True, "runs": []}

    def fake(name):
        def run(out, **kwargs):
            record["runs"].append((name, str(out), kwargs))
            return {"ok": record["ok"]}

        return run

    monkeypatch.setattr(_demo, "run_demo", fake("real"))
    monkeypatch.setattr(_demo, "run_synthetic_demo", fake("synthetic"))
    return record


def test_default_is_the_studys_map(calls):
    assert _cli.main(["demo", "--out", "here"]) == 0
    assert calls["runs"] == [("real", "here", {"random_state": 0, "verbose": True})]


def test_synthetic_options_are_passed_on(calls):
    argv = ["demo", "--synthetic", "--out", "d", "--quiet", "--random-state", "3"]
    assert _cli.main(argv + ["--shape", "40", "50", "--counts-per-pixel", "90"]) == 0
    assert _cli.main(argv + ["--n-clusters", "5"]) == 0
    (_, out, first), (_, _, second) = calls["runs"]
    assert out == "d"
    assert first == {
        "random_state": 3,
        "verbose": False,
        "shape": (40, 50),
        "counts_per_pixel": 90.0,
    }
    assert second == {"random_state": 3, "verbose": False, "n_clusters": 5}


def test_exit_status_follows_ok(calls):
    calls["ok"] = False
    assert _cli.main(["demo", "--quiet"]) == 1
    assert _cli.main(["demo", "--synthetic", "--quiet"]) == 1


@pytest.mark.parametrize(
    "extra", [["--n-clusters", "5"], ["--shape", "10", "10"], ["--counts-per-pixel", "50"]]
)
def test_synthetic_only_options_are_refused_on_the_studys_map(calls, capsys, extra):
    with pytest.raises(SystemExit) as exit_info:
        _cli.main(["demo", *extra])
    assert exit_info.value.code == 2
    assert "only apply with --synthetic" in capsys.readouterr().err
    assert calls["runs"] == []


def test_help_describes_both_demos():
    result = subprocess.run(
        [sys.executable, "-m", "hyperspy_cmeans", "demo", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    text = " ".join(result.stdout.split())
    assert "QV1.120 FIB cross-section" in text and "published" in text
    assert "--synthetic" in text and "ground truth" in text
