"""The versions pyproject.toml claims are the versions tested: the quick suite
(`pytest -m "not slow"`) on the oldest claimed TensorFlow and Keras, in a fresh virtual
environment, then on the newest, the environment this runs in (CI installs the newest).

    python -m tools.claimed_versions            # both; CI runs this
    python -m tools.claimed_versions --only oldest

The oldest are the lower bounds of `tensorflow>=` and `keras>=` in pyproject.toml; the
other dependencies are the newest pip finds for them. The project is not installed in
the new environment (nothing is written into the repository): the tests import it from
here. Extras beyond `test` (JAX, PyTorch, notebooks) are not installed there, so the
tests that need them skip, saying why.
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import tomllib  # Python 3.11: this maintainers' tool needs it (the project: 3.10)

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["-m", "pytest", "-m", "not slow", "-q", "-p", "no:cacheprovider"]


def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def lower_bound(name, dependencies):
    """The version after `name>=` in `dependencies` (an error if there is none)."""
    for requirement in dependencies:
        found = re.fullmatch(rf"{name}\s*>=\s*([\w.]+)", requirement.split(";")[0])
        if found:
            return found.group(1)
    raise SystemExit(f"pyproject.toml claims no lower bound for {name}")


def versions(python):
    """'TensorFlow X, Keras Y, NumPy Z' as `python` imports them."""
    code = (
        "import numpy, tensorflow, keras; "
        "print(f'TensorFlow {tensorflow.__version__}, Keras {keras.__version__}, "
        "NumPy {numpy.__version__}')"
    )
    env = {"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()


def quick_suite(python, label):
    """Runs the quick suite with `python`; returns (passed, summary line)."""
    print(f"{label}: {versions(python)}", flush=True)
    start = time.monotonic()
    done = subprocess.run([python, *QUICK], cwd=ROOT, capture_output=True, text=True)
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    line = f"{label}: {summary.strip('= ')} ({time.monotonic() - start:.0f} s)"
    if done.returncode:
        print(done.stdout[-6000:], done.stderr[-2000:], sep="\n")
    return done.returncode == 0, line


def oldest(folder):
    """A virtual environment in `folder` with the oldest claimed TensorFlow and Keras,
    the test tools; returns its Python."""
    meta = project()
    dependencies = meta["dependencies"]
    pins = [
        f"tensorflow=={lower_bound('tensorflow', dependencies)}",
        f"keras=={lower_bound('keras', dependencies)}",
    ]
    others = [
        requirement.split("#")[0].strip()
        for requirement in [*dependencies, *meta["optional-dependencies"]["test"]]
        if not requirement.startswith(("tensorflow", "keras"))
    ]
    venv.create(folder, with_pip=True)
    python = str(Path(folder) / "bin" / "python")
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, *pins, *others], check=True)
    return python


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m tools.claimed_versions", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--only", choices=("oldest", "newest"))
    args = parser.parse_args(argv)
    results = []
    if args.only != "newest":
        with tempfile.TemporaryDirectory(prefix="oldest-claimed-") as folder:
            results.append(quick_suite(oldest(folder), "oldest claimed"))
    if args.only != "oldest":
        results.append(quick_suite(sys.executable, "newest installed"))
    for _passed, line in results:
        print(line)
    return 0 if all(passed for passed, _line in results) else 1


if __name__ == "__main__":
    sys.exit(main())
