"""The extension is registered with HyperSpy and its YAML is valid."""

import importlib
import importlib.metadata
from pathlib import Path

import exspy
import hyperspy.api as hs
import numpy as np
import pytest
import yaml

import hyperspy_cmeans
from hyperspy_cmeans import EDSSEMCmeansSpectrum, LazyEDSSEMCmeansSpectrum

YAML_PATH = Path(hyperspy_cmeans.__file__).parent / "hyperspy_extension.yaml"


def _eds_sem_map(shape=(4, 5), n_channels=64):
    rng = np.random.default_rng(0)
    s = hs.signals.Signal1D(rng.poisson(5.0, size=shape + (n_channels,)).astype(float))
    s.set_signal_type("EDS_SEM")
    ax = s.axes_manager.signal_axes[0]
    ax.scale, ax.offset, ax.units, ax.name = 0.1, -0.1, "keV", "Energy"
    s.metadata.set_item("Acquisition_instrument.SEM.beam_energy", 15.0)
    s.set_elements(["Fe", "O", "Si"])
    return s


def test_version_is_exposed():
    assert isinstance(hyperspy_cmeans.__version__, str)
    assert hyperspy_cmeans.__version__ == importlib.metadata.version("hyperspy_cmeans")


def test_entry_point_names_the_package():
    eps = importlib.metadata.entry_points(group="hyperspy.extensions")
    ours = [ep for ep in eps if ep.name == "hyperspy_cmeans"]
    assert len(ours) == 1
    assert ours[0].value == "hyperspy_cmeans"
    # HyperSpy finds the YAML next to the module that the entry point names.
    spec = importlib.util.find_spec(ours[0].name)
    assert (Path(spec.origin).parent / "hyperspy_extension.yaml").is_file()


def test_yaml_names_only_things_that_exist():
    with open(YAML_PATH) as f:
        ext = yaml.safe_load(f)
    assert set(ext) <= {"signals", "components1D", "components2D", "GUI"}
    for class_name, spec in ext["signals"].items():
        module = importlib.import_module(spec["module"])
        cls = getattr(module, class_name)
        assert spec["signal_type"] == cls._signal_type
        assert spec["signal_dimension"] == cls._signal_dimension
        assert spec["lazy"] == cls._lazy
        assert spec["dtype"] == "real"
        # never shadow another extension's class name (HyperSpy merges by name)
        assert class_name not in {"EDSSEMSpectrum", "LazyEDSSEMSpectrum", "EDSSpectrum"}
    gui = ext.get("GUI", {})
    toolkeys = set(gui.get("toolkeys", []))
    for key in toolkeys:
        assert key.startswith("hyperspy_cmeans."), key
    for _toolkit, widgets in gui.get("widgets", {}).items():
        for key, spec in widgets.items():
            assert key in toolkeys, f"widget {key} is not a declared toolkey"
            assert importlib.util.find_spec(spec["module"]) is not None, spec["module"]
            try:
                module = importlib.import_module(spec["module"])
            except ImportError as err:  # the GUI extra is not installed
                assert "hyperspy_cmeans[gui-jupyter]" in str(err)
                continue
            assert callable(getattr(module, spec["function"]))


def test_class_hierarchy():
    assert issubclass(EDSSEMCmeansSpectrum, exspy.signals.EDSSEMSpectrum)
    assert issubclass(LazyEDSSEMCmeansSpectrum, exspy.signals.LazyEDSSEMSpectrum)
    assert issubclass(LazyEDSSEMCmeansSpectrum, EDSSEMCmeansSpectrum)


def test_known_signal_types_lists_ours(capsys):
    hs.print_known_signal_types()
    assert "EDS_SEM_cmeans" in capsys.readouterr().out


def test_set_signal_type_eager_and_lazy():
    s = _eds_sem_map()
    s.set_signal_type("EDS_SEM_cmeans")
    assert type(s) is EDSSEMCmeansSpectrum
    assert s.metadata.Signal.signal_type == "EDS_SEM_cmeans"
    lazy = s.as_lazy()
    assert type(lazy) is LazyEDSSEMCmeansSpectrum
    lazy.compute()
    assert type(lazy) is EDSSEMCmeansSpectrum


def test_lazy_load_and_set_signal_type(tmp_path):
    s = _eds_sem_map()
    s.save(tmp_path / "m.hspy")
    lazy = hs.load(tmp_path / "m.hspy", lazy=True)
    lazy.set_signal_type("EDS_SEM_cmeans")
    assert type(lazy) is LazyEDSSEMCmeansSpectrum
    direct = hs.load(tmp_path / "m.hspy", signal_type="EDS_SEM_cmeans", lazy=True)
    assert type(direct) is LazyEDSSEMCmeansSpectrum
    np.testing.assert_array_equal(direct.data.compute(), s.data)


@pytest.mark.parametrize("ext", ["hspy", "zspy"])
@pytest.mark.parametrize("lazy", [False, True])
def test_save_load_round_trip(tmp_path, ext, lazy):
    s = _eds_sem_map()
    s.set_signal_type("EDS_SEM_cmeans")
    s.axes_manager.navigation_axes[0].scale = 17.1875
    s.axes_manager.navigation_axes[0].units = "nm"
    path = tmp_path / f"m.{ext}"
    s.save(path)
    r = hs.load(path, lazy=lazy)
    assert type(r) is (LazyEDSSEMCmeansSpectrum if lazy else EDSSEMCmeansSpectrum)
    np.testing.assert_array_equal(np.asarray(r.data), s.data)
    for a, b in zip(s.axes_manager._axes, r.axes_manager._axes, strict=True):
        assert (a.name, a.units, a.size, a.navigate) == (b.name, b.units, b.size, b.navigate)
        assert a.scale == pytest.approx(b.scale) and a.offset == pytest.approx(b.offset)
    for node in ("Sample", "Acquisition_instrument", "Signal"):
        assert (
            r.metadata.get_item(node).as_dictionary() == s.metadata.get_item(node).as_dictionary()
        )

    # HyperSpy records the package that provides the class and its version
    if ext == "hspy":
        import h5py

        with h5py.File(path, "r") as f:
            group = f["Experiments"][next(iter(f["Experiments"]))]
            info = {k: v for k, v in group.attrs.items() if k.startswith("package")}
        assert info["package"] == "hyperspy_cmeans"
        assert info["package_version"] == hyperspy_cmeans.__version__
