"""Shared parts of the side-by-side benchmark scripts (Scripts/bench-sensitivities, Scripts/bench-fit):
finding (or building) the stat3sim binary, the AMICI virtual environment, the machine line and the
Markdown tables. Standard library only.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / ".build-bench"
AMICI_VENV = BENCH / "amici-venv"
# amici 1.0 renamed its Python API (amici.sim.sundials, amici.importers.*): the scripts use 1.0's
# names, so the version is pinned. The petab extra brings the petab package for the PEtab import.
AMICI_REQUIREMENT = "amici[petab]==1.0.1"
# cmake and ninja for the builds of AMICI and of its model modules, from PyPI into the venv's bin/.
AMICI_BUILD_TOOLS = ["cmake", "ninja"]


def find_stat3sim() -> Path:
    """$STAT3SIM (relative paths from the repository's root), else .build/release/stat3sim, built
    with `swift build -c release` when missing."""
    env = os.environ.get("STAT3SIM")
    binary = Path(env) if env else REPO / ".build/release/stat3sim"
    if not binary.is_absolute():
        binary = REPO / binary
    if not binary.exists():
        if env:
            sys.exit(f"STAT3SIM={env} does not exist")
        print(f"{binary} is missing: running `swift build -c release` in {REPO} ...", file=sys.stderr, flush=True)
        subprocess.run(["swift", "build", "-c", "release"], cwd=REPO, check=True)
    return binary


def stat3sim_version(binary: Path) -> str:
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown version"


def amici_env() -> dict:
    """The environment for the venv's Python: its bin/ (cmake, ninja, swig from pip) first on PATH,
    as AMICI's model compiles need them."""
    env = dict(os.environ)
    env["PATH"] = f"{AMICI_VENV / 'bin'}:{env.get('PATH', '')}"
    return env


def amici_python(probe: str = "import amici.sim.sundials, petab.v1") -> tuple[Path | None, str]:
    """The Python of .build-bench/amici-venv, with AMICI installed into it when `probe` fails there:
    a venv with the system's packages visible (numpy, roadrunner come along), then cmake and ninja,
    then AMICI, which pip builds from source (~5 min on 2 cores). Returns (python, "") or
    (None, why not)."""
    python = AMICI_VENV / "bin" / "python"
    env = amici_env()
    if not python.exists():
        print(f"creating {AMICI_VENV} and installing AMICI into it (pip builds it from source, ~5 min) ...",
              file=sys.stderr, flush=True)
        BENCH.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(AMICI_VENV)], check=True)
    if subprocess.run([str(python), "-c", probe], capture_output=True, env=env).returncode == 0:
        return python, ""
    for what in (AMICI_BUILD_TOOLS, [AMICI_REQUIREMENT]):
        print(f"  pip install {' '.join(what)} into {AMICI_VENV} ...", file=sys.stderr, flush=True)
        done = subprocess.run([str(python), "-m", "pip", "install", *what], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
            return None, f"pip install {' '.join(what)} failed (see above)"
    probed = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, env=env)
    if probed.returncode != 0:
        return None, f"amici does not import after installing: {probed.stderr.strip().splitlines()[-1:]}"
    return python, ""


def reexec_in_amici_venv(script: str, argv: list[str], probe: str = "amici.sim.sundials"):
    """For scripts that import amici themselves: unless this Python already imports `probe`,
    install AMICI into .build-bench/amici-venv (amici_python) and re-execute `script` with argv
    there. Returns only when that is not possible (or already done): the caller reports why amici
    does not import."""
    try:
        __import__(probe)
        return
    except Exception:
        pass
    if Path(sys.prefix).resolve() == AMICI_VENV.resolve():
        return
    python, why = amici_python(f"import {probe}")
    if python is None:
        print(f"{why}; continuing without AMICI", file=sys.stderr)
        return
    os.execve(str(python), [str(python), str(Path(script).resolve()), *argv], amici_env())


def machine() -> str:
    """CPU model, the cores this process may use, and the 1-minute load average."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return f"{cpu}, nproc {cores}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"


def print_table(head, rows):
    """A Markdown table, right-aligned columns."""
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).rjust(w) for c, w in zip(cells, widths)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for r in rows:
        print(line(r))
    sys.stdout.flush()
