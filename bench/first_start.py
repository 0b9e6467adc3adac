"""`make run`'s first start, timed phase by phase, on a fresh clone (#17: under three minutes).

    python bench/first_start.py                 # clone HEAD into a temp dir, `make run`, time it
    python bench/first_start.py --rev main      # the same for another commit
    python bench/first_start.py --runs 2        # twice (a fresh clone each time)

Each run clones the repository at `--rev` into a new temporary directory (no .venv, no
node_modules, no PWA build, no database: what a newcomer has), runs `make run` there with its own
cluster port and HTTP port, and stamps every `==>` line the scripts print with the seconds since
the start. A phase lasts from its line to the next one; the run ends at "Tonari is ready", then
the script sends SIGTERM to `make run`'s process group, which stops the server and the
cluster as a user's Ctrl-C does, and deletes the directory. The load average is printed before
and after: the figures are only comparable at a similar load (bench/README.md).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The `==>` lines that begin a phase, and the phase's short name (the first that matches).
PHASES: list[tuple[str, str]] = [
    (r"Creating the Python virtualenv", "venv"),
    (r"Installing Python dependencies", "pip install"),
    (r"Installing PWA dependencies", "npm ci"),
    (r"Building the PWA", "PWA build"),
    (r"Creating the embedded PostGIS cluster", "PostGIS init"),
    (r"Creating roles", "PostGIS roles + template"),
    (r"Starting embedded PostGIS", "PostGIS start"),
    (r"Migrating the database", "migrate"),
    (r"Seeding demo data", "seed"),
    (r"Waiting for the PWA build", "wait for the PWA"),
    (r"Starting the server", "server start"),
]
BESIDE = re.compile(r"PWA set up in (\d+) s")  # the PWA's own time when it ran in the background
READY = re.compile(r"Tonari is ready")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def phase_of(line: str) -> str | None:
    if not line.startswith("==> "):
        return None
    for pattern, name in PHASES:
        if re.search(pattern, line):
            return name
    return line[4:60]


def one_run(rev: str, pg_port: int, http_port: int, timeout: float, keep: bool) -> list[tuple[str, float]]:
    work = Path(tempfile.mkdtemp(prefix="tonari-first-start-"))
    clone = work / "tonari"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", rev], check=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TONARI_", "DATABASE_URL", "E2E_"))},
        "TONARI_PG_PORT": str(pg_port),
        "TONARI_PORT": str(http_port),
    }
    print(f"--- {rev} in {clone}; load before: {load()}", flush=True)
    t0 = time.monotonic()
    proc = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: Ctrl-C reaches make, run.sh and the server
    )
    marks: list[tuple[str, float]] = []
    pwa_s: float | None = None
    ready = False
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            now = time.monotonic() - t0
            name = phase_of(line)
            if name is not None:
                marks.append((name, now))
                print(f"{now:7.1f} s  {line.rstrip()}", flush=True)
            if line.startswith(("ERROR", "WARNING")) and "is ignored: it is neither" not in line:
                print(f"{now:7.1f} s  {line.rstrip()}", flush=True)
            if (beside := BESIDE.search(line)) is not None:
                print(f"{now:7.1f} s  {line.rstrip()}", flush=True)
                pwa_s = float(beside.group(1))
            if READY.search(line):
                marks.append(("ready", now))
                ready = True
                break
            if now > timeout:
                break
    finally:
        if proc.poll() is None:
            # SIGTERM, which run.sh handles like Ctrl-C: a bench started in the background
            # (nohup … &) inherits SIGINT ignored, and a shell cannot trap a signal ignored at entry.
            os.killpg(proc.pid, signal.SIGTERM)
        # make exits at once on Ctrl-C; run.sh then stops the server and the cluster: wait for
        # the whole process group, or the clone would be deleted under its cleanup.
        deadline = time.monotonic() + 180  # the server stops gracefully (20 s), then the cluster
        while (proc.poll() is None or _group_alive(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)  # poll() reaps make, so only live members keep the group
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if not keep:
            # The cluster may live outside the clone (var/pg links to /var/tmp when the postgres
            # user cannot enter it): pg.sh reset deletes it wherever it is.
            subprocess.run(["bash", "scripts/pg.sh", "reset"], cwd=clone, env=env, capture_output=True, check=False)
            shutil.rmtree(work, ignore_errors=True)
    if not ready:
        raise SystemExit(f"`make run` did not get ready (exit {proc.returncode}); see the lines above")
    print(f"load after: {load()}")
    if pwa_s is not None:
        print(f"(the PWA's npm ci + build took {pwa_s:.0f} s in the background)")
    return marks


def durations(marks: list[tuple[str, float]]) -> list[tuple[str, float]]:
    out = [("clone → first line", marks[0][1])] if marks else []
    for (name, start), (_, end) in itertools.pairwise(marks):
        out.append((name, end - start))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rev", default="HEAD", help="commit to clone (default HEAD)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--pg-port", type=int, default=54348)
    ap.add_argument("--http-port", type=int, default=8718)
    ap.add_argument("--timeout", type=float, default=900.0, help="give up after this many seconds")
    ap.add_argument("--keep", action="store_true", help="keep the clone (to look at var/)")
    args = ap.parse_args()
    rev = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", args.rev], check=True, capture_output=True, text=True
    ).stdout.strip()
    table: list[list[tuple[str, float]]] = []
    for _ in range(args.runs):
        marks = one_run(rev, args.pg_port, args.http_port, args.timeout, args.keep)
        table.append(durations(marks))
        total = marks[-1][1]
        print(f"=== {rev}: ready after {total:.1f} s", flush=True)
    print("\nphase (s) " + " ".join(f"{'run ' + str(i + 1):>8}" for i in range(len(table))))
    for i, (name, _) in enumerate(table[0]):
        cells = " ".join(f"{run[i][1]:8.1f}" if i < len(run) and run[i][0] == name else f"{'?':>8}" for run in table)
        print(f"{name:<26}{cells}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
