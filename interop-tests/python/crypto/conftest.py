"""Fixtures for the liaison-crypto cross-implementation tests: the Rust binary
``liaison-crypto-interop`` (found in ``$LIAISON_BIN_DIR``, default ``<repo>/target/debug``), the
vectors it emits, a runner for its ``check`` subcommand, and a tally of what was compared, printed
at the end of the session."""

from __future__ import annotations

import collections
import json
import os
import pathlib
import re
import subprocess
from dataclasses import dataclass

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
BIN_NAME = "liaison-crypto-interop"
EMIT_SEED = int(os.environ.get("LIAISON_INTEROP_SEED", "0"))

# (direction, primitive) -> number of byte-exact comparisons or verifications made
_TALLY: collections.Counter = collections.Counter()


@pytest.fixture(scope="session")
def rust_bin() -> pathlib.Path:
    bin_dir = pathlib.Path(os.environ.get("LIAISON_BIN_DIR", REPO / "target" / "debug"))
    path = bin_dir / BIN_NAME
    if not path.is_file():
        pytest.fail(f"{path} not found: build it (interop-tests/run.sh does) or set LIAISON_BIN_DIR")
    return path


@pytest.fixture(scope="session")
def rust_vectors(rust_bin) -> dict:
    out = subprocess.run(
        [str(rust_bin), "emit", "--seed", str(EMIT_SEED)],
        check=True, capture_output=True, text=True, timeout=120,
    )
    vectors = json.loads(out.stdout)
    assert vectors["seed"] == EMIT_SEED
    return vectors


@pytest.fixture(scope="session")
def rust_recipients(rust_vectors) -> dict:
    """Suite name -> public key of the fixed Rust KEM recipient (secret known only to Rust)."""
    return {r["suite"]: bytes.fromhex(r["public_key"]) for r in rust_vectors["recipients"]}


@dataclass
class CheckResult:
    returncode: int
    lines: list[str]  # one per item, "PASS ..." or "FAIL ..."
    passed: int
    failed: int
    stdout: str
    stderr: str

    def assert_all_passed(self, expected_items: int) -> None:
        """Every item got a PASS line, the counts add up, and the binary exited 0."""
        failures = [line for line in self.lines if not line.startswith("PASS ")]
        assert not failures, "\n".join(failures)
        assert (self.passed, self.failed) == (expected_items, 0), self.stdout
        assert len(self.lines) == expected_items, self.stdout
        assert self.returncode == 0, self.stderr


_SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")


@pytest.fixture
def run_check(rust_bin, tmp_path):
    """Writes ``items`` (a CheckFile dict) to a file, runs ``check`` on it, parses the output."""

    def run(items: dict, name: str = "check.json") -> CheckResult:
        path = tmp_path / name
        path.write_text(json.dumps({"producer": "interop-tests/python/crypto", **items}, indent=1))
        proc = subprocess.run(
            [str(rust_bin), "check", str(path)], capture_output=True, text=True, timeout=300
        )
        print(proc.stdout, end="")
        lines = proc.stdout.splitlines()
        assert lines, f"check printed nothing; stderr: {proc.stderr}"
        summary = _SUMMARY.match(lines[-1])
        assert summary, f"no summary line in check output: {proc.stdout!r} {proc.stderr!r}"
        return CheckResult(
            proc.returncode, lines[:-1], int(summary[1]), int(summary[2]), proc.stdout, proc.stderr
        )

    return run


@pytest.fixture
def tally():
    """``tally(direction, primitive, n)`` records n comparisons for the end-of-session table."""

    def record(direction: str, primitive: str, n: int) -> None:
        assert n > 0, f"{direction} {primitive}: nothing was compared"
        _TALLY[(direction, primitive)] += n
        print(f"{direction:<16} {primitive:<60} {n:>4}")

    return record


def pytest_terminal_summary(terminalreporter):
    if not _TALLY:
        return
    terminalreporter.section("liaison-crypto interop: comparisons made")
    for (direction, primitive), n in sorted(_TALLY.items()):
        terminalreporter.write_line(f"{direction:<16} {primitive:<60} {n:>4}")
    terminalreporter.write_line(f"{'total':<77} {sum(_TALLY.values()):>4}")
