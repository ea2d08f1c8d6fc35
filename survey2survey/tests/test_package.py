# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Package-level behaviour: public names, error hierarchy, lazy imports."""

import inspect
import subprocess
import sys

import pytest

import survey2survey
from survey2survey import exceptions


def test_version_is_a_string():
    """The version comes from setuptools_scm."""
    assert isinstance(survey2survey.__version__, str) and survey2survey.__version__


def test_every_error_derives_from_the_base():
    """Every exception in the exceptions module derives from Survey2SurveyError (warnings
    from AstropyUserWarning)."""
    from astropy.utils.exceptions import AstropyUserWarning

    for name in exceptions.__all__:
        cls = getattr(exceptions, name)
        base = AstropyUserWarning if issubclass(cls, Warning) else survey2survey.Survey2SurveyError
        assert issubclass(cls, base), name


def test_import_is_light():
    """Importing the package does not import torch (translators load lazily)."""
    code = "import sys, survey2survey, survey2survey.io; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lazy_entry_points():
    """The top-level entry points users type resolve lazily."""
    assert inspect.isclass(survey2survey.Translator)
    assert inspect.isclass(survey2survey.Survey2Survey)
    assert callable(survey2survey.transform_many)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        survey2survey.nope  # noqa: B018


def test_every_module_declares_all():
    """Every module of the package (not the star-importing packages) declares __all__."""
    import pkgutil

    missing = []
    for info in pkgutil.walk_packages(survey2survey.__path__, "survey2survey."):
        if (info.ispkg or ".tests" in info.name
                or info.name.endswith(("conftest", "version"))):
            continue
        module = __import__(info.name, fromlist=["_"])
        if not hasattr(module, "__all__"):
            missing.append(info.name)
    assert not missing


def test_cli_version(capsys):
    """`survey2survey --version` prints the version."""
    from survey2survey.cli import main

    assert main(["--version"]) == 0  # main returns the status; argparse's exit is caught
    assert survey2survey.__version__ in capsys.readouterr().out


def test_readme_quickstart_runs_verbatim(tmp_path, monkeypatch):
    """The README's first code block (the pretrained model on the sample frames) runs as is."""
    import re
    from pathlib import Path

    # the source tree of an editable install, or the checkout the tests run from (CI)
    candidates = [Path(__file__).parents[2] / "README.rst", Path.cwd() / "README.rst"]
    readme = next((p for p in candidates if p.is_file()), None)
    if readme is None:
        pytest.skip("no README.rst next to the package or in the working directory")
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", readme.read_text())
    code = "\n".join(line[4:] for line in blocks[0].splitlines())
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.rst", "exec"), {})  # noqa: S102
    assert (tmp_path / "des_like.fits").is_file()


def test_oldest_dependency_pins_match_the_declared_bounds():
    """.ci/oldest-deps.txt pins every lower bound the installed metadata declares."""
    import importlib.metadata
    from pathlib import Path

    from packaging.requirements import Requirement

    pins_file = Path(survey2survey.__file__).resolve().parents[1] / ".ci" / "oldest-deps.txt"
    if not pins_file.is_file():
        pytest.skip("not a source checkout")
    pins = {}
    for line in pins_file.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    declared = {}
    for text in importlib.metadata.requires("survey2survey"):
        requirement = Requirement(text)
        marker = str(requirement.marker or "")
        if marker and not any(f'extra == "{e}"' in marker for e in ("sim", "data",
                                                                    "distributed")):
            continue
        for spec in requirement.specifier:
            if spec.operator == ">=":
                declared[requirement.name.lower()] = spec.version
    assert set(declared) <= set(pins), set(declared) - set(pins)
    for name, bound in declared.items():
        # the pin is the bound itself, or its first release where that was never published
        assert pins[name].startswith(bound), (name, bound, pins[name])
