"""The federation harness for the resilience and adversarial tests (issue 8).

A `Federation` is built with the real command-line tools into a pytest tmp dir, exactly as an
operator would: `liaison authority init|sign`, `liaison-node init`, `liaison init|enroll|enroll
--install`, one `relay.toml` per relay in the schema of examples/relay.toml. Relays run as real
`liaison-node run` processes on loopback (UDP for QUIC, TCP for the metrics endpoint); tests
SIGKILL, SIGSTOP, restart them and damage their files. Every wait is bounded; every process a
fixture starts is stopped at teardown.

Scenario results are written as JSON under interop-tests/.reports/resilience/ and summarised on
stdout (run with `-s` to see the lines live).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

CLI_TIMEOUT = 60.0
START_TIMEOUT = 30.0
PASSPHRASE = "resilience test passphrase"
REPORTS = Path(__file__).resolve().parents[2] / ".reports" / "resilience"


def long_mode() -> bool:
    """`LIAISON_RESILIENCE_LONG=1` selects the long (non-CI) counts."""
    return os.environ.get("LIAISON_RESILIENCE_LONG") == "1"


def bin_path(name: str) -> str:
    bin_dir = os.environ.get("LIAISON_BIN_DIR")
    if not bin_dir:
        pytest.fail("LIAISON_BIN_DIR is not set; run through interop-tests/run.sh")
    path = Path(bin_dir) / name
    if not path.exists():
        pytest.fail(f"{path} does not exist; build the workspace binaries first")
    return str(path)


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_tcp_port() -> int:
    """A port free for both UDP and TCP on loopback (so a relay's address stays unique)."""
    for _ in range(50):
        port = free_port(socket.SOCK_DGRAM)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


def write_report(name: str, result: dict) -> Path:
    """Writes one scenario's JSON result and prints its summary line."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / f"{name}.json"
    result = {"scenario": name, "long_mode": long_mode(), "finished_unix": int(time.time()), **result}
    path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"\nRESILIENCE {name}: " + json.dumps(result, sort_keys=True))
    return path


class CliResult:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        try:
            self.json = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else None
        except (json.JSONDecodeError, IndexError):
            self.json = None

    def __repr__(self) -> str:
        return f"exit {self.code}\nstdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-2000:]}"


def env() -> dict:
    return {**os.environ, "LIAISON_KDF_PROFILE": "test", "RUST_LOG": os.environ.get("RUST_LOG", "info")}


def run(args: list[str], timeout: float = CLI_TIMEOUT, check: bool = False, stdin: bytes | None = None) -> CliResult:
    try:
        proc = subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, env=env(),
            input=None if stdin is None else stdin.decode(),
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{' '.join(args[:4])} did not finish within {timeout}s: {e.stderr!r}")
    result = CliResult(proc)
    if check and result.code != 0:
        pytest.fail(f"{' '.join(args)} failed: {result!r}")
    return result


class Relay:
    """One relay: its directory, configuration and (while running) its `liaison-node` process."""

    def __init__(self, fed: "Federation", name: str, org: str):
        self.fed = fed
        self.name = name
        self.org = org
        self.dir = fed.root / name
        self.port = free_udp_tcp_port()
        self.metrics_port = free_port(socket.SOCK_STREAM)
        self.address = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = self.dir / "node.log"
        self.routes: list[dict] = []
        self.extra: str = ""
        self.limits: str = ""
        self.starts = 0
        run([bin_path("liaison-node"), "init", "--dir", str(self.dir), "--name", name,
             "--organisation", org], check=True)
        fed.sign(self.dir / "node.csr", self.dir / "node.cert", "--role", "relay",
                 "--clearance", "secret-ue", "--address", self.address)
        shutil.copy(self.dir / "node.cert", fed.members / f"{name}.cert")
        self.id = fed.inspect(self.dir / "node.cert")

    @property
    def config(self) -> Path:
        return self.dir / "relay.toml"

    @property
    def storage(self) -> Path:
        return self.dir / "custody.redb"

    def write_config(self) -> None:
        lines = [
            f'listen = "{self.address}"',
            'identity_key = "node.key"',
            'certificate = "node.cert"',
            'storage = "custody.redb"',
            f'trust_anchors = ["{self.fed.authority / "authority.pub"}"]',
            f'directory = ["{self.fed.members}"]',
            f'metrics_listen = "127.0.0.1:{self.metrics_port}"',
            'officer_qkd = "off"',
            "reload_check_secs = 1",
            self.extra,
            "",
        ]
        for r in self.routes:
            lines.append("[[route]]")
            for k, v in r.items():
                lines.append(f"{k} = {json.dumps(v)}")
            lines.append("")
        lines.append("[limits]")
        lines.append("handshake_timeout_secs = 5")
        lines.append("idle_timeout_secs = 5")
        lines.append("ping_interval_secs = 3")
        lines.append("peer_timeout_secs = 8")
        lines.append(self.limits)
        self.config.write_text("\n".join(lines) + "\n")

    def start(self, wait: bool = True) -> None:
        assert self.proc is None or self.proc.poll() is not None, f"{self.name} already running"
        self.write_config()
        self.starts += 1
        logf = open(self.log, "ab")
        logf.write(f"==== start {self.starts} ====\n".encode())
        logf.flush()
        self.proc = subprocess.Popen(
            [bin_path("liaison-node"), "run", "--config", str(self.config)],
            stdout=logf, stderr=logf, env=env(), start_new_session=True,
        )
        logf.close()
        self.fed.procs.append(self.proc)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"{self.name} exited {self.proc.returncode} at start: {self.log_tail()}")
            if self.status_http() is not None:
                return
            time.sleep(0.1)
        pytest.fail(f"{self.name} not ready within {timeout}s: {self.log_tail()}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.running():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> int | None:
        """Graceful stop (SIGTERM), SIGKILL after 15 s; returns the exit code."""
        if not self.running():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)

    def pause(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def status_http(self, timeout: float = 2.0) -> dict | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/status", timeout=timeout) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return None

    def metrics(self, timeout: float = 3.0) -> dict[str, float]:
        """The Prometheus text as {'name{labels}': value}."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=timeout) as r:
            text = r.read().decode()
        out: dict[str, float] = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            key, _, value = line.rpartition(" ")
            try:
                out[key] = float(value)
            except ValueError:
                continue
        return out

    def metric_sum(self, prefix: str) -> float:
        return sum(v for k, v in self.metrics().items() if k == prefix or k.startswith(prefix + "{"))

    def status_cli(self) -> CliResult:
        return run([bin_path("liaison-node"), "status", "--config", str(self.config), "--json"])

    def audit(self) -> CliResult:
        """`liaison-node audit verify --json` of the custody file; the relay must be stopped (a
        copy of a live file is not a consistent database: redb refuses it as needing repair)."""
        assert not self.running(), f"{self.name}: stop the relay before verifying its audit log"
        return run([bin_path("liaison-node"), "audit", "verify", str(self.storage),
                    "--certificate", str(self.dir / "node.cert"), "--json"])

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""


class Officer:
    """An officer with a `liaison` home directory, enrolled at `relay`."""

    def __init__(self, fed: "Federation", name: str, org: str, relay: Relay, clearance: str):
        self.fed = fed
        self.name = name
        self.relay = relay
        self.home = fed.root / "officers" / name.replace(" ", "_")
        self.cli(["init", "--name", name, "--org", org], check=True, pw=True)
        self.cli(["enroll"], check=True, pw=True)
        self.cert = self.home / "officer.cert"
        fed.sign(self.home / "request.csr", self.cert, "--role", "officer", "--clearance", clearance,
                 "--home-relay", str(relay.dir / "node.cert"))
        shutil.copy(self.cert, fed.members / f"{self.home.name}.cert")
        self.cli(["enroll", "--install", str(self.cert), "--relay-cert", str(relay.dir / "node.cert"),
                  "--trust", str(fed.authority / "authority.pub")], check=True, pw=True)
        self.id = fed.inspect(self.cert)

    def cli(self, args: list[str], check: bool = False, pw: bool = True, timeout: float = CLI_TIMEOUT,
            stdin: bytes | None = None, io_timeout: int | None = None) -> CliResult:
        cmd = [bin_path("liaison"), "--home", str(self.home), "--json"]
        if io_timeout is not None:
            cmd += ["--timeout", str(io_timeout)]
        cmd += args[:1]
        if pw:
            cmd += ["--passphrase-file", str(self.fed.passfile)]
        cmd += args[1:]
        return run(cmd, timeout=timeout, check=check, stdin=stdin)

    def send(self, to: "Officer | str", path: Path, classification: str = "restreint-ue",
             extra: list[str] | None = None, io_timeout: int = 8) -> CliResult:
        to_id = to if isinstance(to, str) else to.id
        return self.cli(["send", "--to", to_id, "--classification", classification, "--tlp", "amber",
                         *(extra or []), str(path)], io_timeout=io_timeout, timeout=io_timeout * 4 + 30)

    def inbox(self, quiet: int = 1, max_wait: int = 10, io_timeout: int = 8) -> CliResult:
        return self.cli(["inbox", "--quiet", str(quiet), "--max-wait", str(max_wait)], io_timeout=io_timeout,
                        timeout=max_wait + io_timeout * 3 + 30)

    def receipts(self, quiet: int = 1, max_wait: int = 10) -> CliResult:
        return self.cli(["receipts", "--quiet", str(quiet), "--max-wait", str(max_wait)], io_timeout=8,
                        timeout=max_wait + 60)


class Federation:
    """An authority, relays and officers under one tmp dir; processes stopped at teardown."""

    def __init__(self, root: Path):
        self.root = root
        self.procs: list[subprocess.Popen] = []
        self.passfile = root / "passphrase"
        self.passfile.write_text(PASSPHRASE + "\n")
        os.chmod(self.passfile, 0o600)
        self.authority = root / "authority"
        self.members = root / "members"
        self.members.mkdir()
        (root / "officers").mkdir()
        run([bin_path("liaison"), "--json", "authority", "init", "--dir", str(self.authority),
             "--passphrase-file", str(self.passfile)], check=True)
        self.relays: dict[str, Relay] = {}
        self.officers: dict[str, Officer] = {}

    def sign(self, csr: Path, out: Path, *terms: str) -> None:
        run([bin_path("liaison"), "--json", "authority", "sign", str(csr), "--dir", str(self.authority),
             "--passphrase-file", str(self.passfile), "--valid-days", "30", "--out", str(out), *terms],
            check=True)

    def authority_cmd(self, *args: str) -> CliResult:
        sub, rest = args[0], list(args[1:])
        return run([bin_path("liaison"), "--json", "authority", sub, "--dir", str(self.authority),
                    "--passphrase-file", str(self.passfile), *rest])

    def inspect(self, cert: Path) -> str:
        """The 64-hex identity id a certificate certifies (`authority inspect --json`: subject)."""
        r = run([bin_path("liaison"), "--json", "authority", "inspect", str(cert), "--dir", str(self.authority)],
                check=True)
        subject = (r.json or {}).get("subject")
        if not isinstance(subject, str) or len(subject) != 64:
            pytest.fail(f"no identity id in `authority inspect` output: {r!r}")
        return subject

    def relay(self, name: str, org: str) -> Relay:
        r = Relay(self, name, org)
        self.relays[name] = r
        return r

    def officer(self, name: str, org: str, relay: Relay, clearance: str = "confidentiel-ue") -> Officer:
        o = Officer(self, name, org, relay, clearance)
        self.officers[name] = o
        return o

    def link(self, a: Relay, b: Relay, **route) -> None:
        """Routes a→b and b→a (extra keys go into both [[route]] tables)."""
        a.routes.append({"relay": b.name, **route})
        b.routes.append({"relay": a.name, **route})

    def teardown(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGCONT)
                except OSError:
                    pass
                p.kill()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass


def wait_until(pred, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"{what} not reached within {timeout}s (last: {last!r})")


def relay_links_up(relay: Relay) -> int:
    try:
        m = relay.metrics()
    except OSError:
        return 0
    return int(sum(v for k, v in m.items() if k.startswith("liaison_links_up") and 'role="relay"' in k))


def report_file(dir_: Path, i: int, size: int = 200) -> Path:
    """A unique text report (its bytes are checked on delivery)."""
    p = dir_ / f"report-{i}.txt"
    body = f"report {i} {os.urandom(8).hex()}\n".encode()
    body += b"x" * max(0, size - len(body))
    p.write_bytes(body)
    return p


def ensure_sim_pki(root: Path, saes: list[str]) -> Path:
    out = root / "qkd-pki"
    run([bin_path("liaison-qkd"), "pki", "--out", str(out), "--sae", *saes], check=True)
    return out


class Sim:
    """A `liaison-qkd sim` process (KME simulator) on loopback."""

    def __init__(self, fed: Federation, pki: Path, *extra: str):
        self.pki = pki
        self.proc = subprocess.Popen(
            [bin_path("liaison-qkd"), "sim", "--listen", "127.0.0.1:0", "--cert", str(pki / "kme.pem"),
             "--key", str(pki / "kme-key.pem"), "--ca", str(pki / "ca.pem"), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env(), start_new_session=True,
        )
        fed.procs.append(self.proc)
        box: list[str] = []
        t = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)
        t.start()
        t.join(START_TIMEOUT)
        if not box or not box[0].strip():
            pytest.fail("KME simulator did not print its address")
        self.url = "https://" + box[0].strip()

    def key_supply(self, sae: str) -> str:
        return (f'sae_id = "{sae}"\n[key_supply]\nkind = "etsi014"\nkme = "{self.url}"\n'
                f'cert = "{self.pki / (sae + ".pem")}"\nkey = "{self.pki / (sae + "-key.pem")}"\n'
                f'ca = "{self.pki / "ca.pem"}"\n')


def read_bytes(officer: Officer, message_id: str, out: Path) -> bytes | None:
    """`liaison read MSG --out DIR`: the report's bytes as written, or None if read failed."""
    out.mkdir(parents=True, exist_ok=True)
    r = officer.cli(["read", message_id, "--out", str(out)])
    if r.code != 0 or not r.json or not r.json.get("written_to"):
        return None
    return Path(r.json["written_to"]).read_bytes()


def inbox_ids(officer: Officer, **kw) -> tuple[CliResult, list[str]]:
    """Fetches and returns the message ids the inbox lists (with repeats, if any)."""
    r = officer.inbox(**kw)
    ids = [m["message_id"] for m in (r.json or {}).get("messages", [])]
    return r, ids


def queue_depth(relay: Relay) -> int:
    s = relay.status_http()
    if not s:
        return -1
    return int(sum(q.get("depth", q.get("items", 0)) for q in s.get("queues", [])))
