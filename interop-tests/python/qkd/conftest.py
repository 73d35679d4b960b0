"""Fixtures for the key-supply (qkd) interop tests.

They start real `liaison-qkd` processes from LIAISON_BIN_DIR: `pki` once per session for a
throw-away CA, KME certificate and SAE certificates (alice, bob, carol), and `sim` KME
simulators on 127.0.0.1 port 0 (the bound address is the first stdout line). Every process is
stopped at the end of its test, with bounded waits.
"""

import os
import queue
import subprocess
import threading
from pathlib import Path

import pytest
import requests

SAES = ("alice", "bob", "carol")
START_TIMEOUT = 15.0
CLI_TIMEOUT = 30.0


def liaison_qkd() -> str:
    bin_dir = os.environ.get("LIAISON_BIN_DIR")
    if not bin_dir:
        pytest.fail("LIAISON_BIN_DIR is not set; run through interop-tests/run.sh")
    path = Path(bin_dir) / "liaison-qkd"
    if not path.exists():
        pytest.fail(f"{path} does not exist; build the workspace binaries first")
    return str(path)


class Pki:
    """Paths of the files written by `liaison-qkd pki`."""

    def __init__(self, out: Path):
        self.dir = out
        self.ca = str(out / "ca.pem")

    def cert(self, sae: str) -> str:
        return str(self.dir / f"{sae}.pem")

    def key(self, sae: str) -> str:
        return str(self.dir / f"{sae}-key.pem")

    def pair(self, sae: str) -> tuple[str, str]:
        return (self.cert(sae), self.key(sae))


class Sim:
    """A running `liaison-qkd sim` process."""

    def __init__(self, pki: Pki, extra_args: list[str]):
        args = [
            liaison_qkd(), "sim", "--listen", "127.0.0.1:0",
            "--cert", pki.cert("kme"), "--key", pki.key("kme"), "--ca", pki.ca,
            *extra_args,
        ]
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "RUST_LOG": "info"},
        )
        lines: queue.Queue = queue.Queue()
        threading.Thread(
            target=lambda: lines.put(self.proc.stdout.readline()), daemon=True
        ).start()
        self.stderr_lines: list[str] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        try:
            first = lines.get(timeout=START_TIMEOUT).strip()
        except queue.Empty:
            self.stop()
            pytest.fail(f"simulator did not print its address within {START_TIMEOUT}s")
        if not first:
            self.stop()
            pytest.fail(f"simulator exited early: {self.stderr()}")
        self.addr = first
        self.url = f"https://{first}"
        self.pki = pki

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    # Direct HTTPS access for probing the simulator with hand-made requests.
    def get(self, sae, path, **kw):
        return requests.get(self.url + path, cert=self._cert(sae), verify=self.pki.ca, timeout=10, **kw)

    def post(self, sae, path, **kw):
        return requests.post(self.url + path, cert=self._cert(sae), verify=self.pki.ca, timeout=10, **kw)

    def _cert(self, sae):
        return None if sae is None else self.pki.pair(sae)


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Pki:
    out = tmp_path_factory.mktemp("qkd-pki")
    subprocess.run(
        [liaison_qkd(), "pki", "--out", str(out), "--sae", *SAES],
        check=True, capture_output=True, text=True, timeout=CLI_TIMEOUT,
    )
    return Pki(out)


@pytest.fixture(scope="session")
def foreign_pki(tmp_path_factory) -> Pki:
    """A second, unrelated CA with its own alice: the simulator must not trust it."""
    out = tmp_path_factory.mktemp("qkd-foreign-pki")
    subprocess.run(
        [liaison_qkd(), "pki", "--out", str(out), "--sae", "alice"],
        check=True, capture_output=True, text=True, timeout=CLI_TIMEOUT,
    )
    return Pki(out)


@pytest.fixture
def start_sim(pki):
    """Factory: start_sim(*extra_args) -> Sim; all are stopped after the test."""
    sims: list[Sim] = []

    def start(*extra_args: str) -> Sim:
        sim = Sim(pki, list(extra_args))
        sims.append(sim)
        return sim

    yield start
    for sim in sims:
        sim.stop()


@pytest.fixture
def sim(start_sim) -> Sim:
    return start_sim("--sae-map", "alice=KME_A,bob=KME_B,carol=KME_C")


@pytest.fixture
def cli(pki):
    """cli(sim_or_url, sae, *args) -> CompletedProcess of `liaison-qkd <args> --kme ...`."""

    def run(target, sae: str, *args: str) -> subprocess.CompletedProcess:
        url = target if isinstance(target, str) else target.url
        command, rest = args[0], list(args[1:])
        return subprocess.run(
            [liaison_qkd(), command, "--kme", url, "--cert", pki.cert(sae),
             "--key", pki.key(sae), "--ca", pki.ca, "--timeout", "5", *rest],
            capture_output=True, text=True, timeout=CLI_TIMEOUT,
        )

    return run
