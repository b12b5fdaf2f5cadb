"""`lojal app`: refuses a busy port, and stopping it stops Streamlit and everything it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

ENV = {**os.environ, "BROWSER": "true"}  # webbrowser.open runs `true`: no browser in tests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lojal_app(port: int, tmp_path) -> subprocess.Popen:
    env = {**ENV, "LOJAL_HOME": str(tmp_path)}
    cmd = [sys.executable, "-m", "simulation.cli", "app", f"--server.port={port}", "--server.address=127.0.0.1",
           "--server.fileWatcherType=none"]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as resp:
            return resp.read() == b"ok"
    except OSError:
        return False


def test_a_busy_port_is_refused_with_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _lojal_app(port, tmp_path)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert f"port {port} is already in use" in err
    assert "Traceback" not in err
    assert "lojal app: http" not in out  # no address printed for a server that is not ours


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_lojal_app_stops_streamlit(tmp_path, signum):
    port = _free_port()
    proc = _lojal_app(port, tmp_path)
    try:
        for _ in range(600):
            if _healthy(port) or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert _healthy(port), proc.stderr.read() if proc.poll() is not None else "no answer in 60 s"
        proc.send_signal(signum)
        proc.wait(20)
        # the port is free again: Streamlit (in its own process group) was stopped, not orphaned
        for _ in range(50):
            if not _healthy(port):
                break
            time.sleep(0.1)
        assert not _healthy(port)
        assert proc.returncode == 128 + signum
    finally:
        if proc.poll() is None:
            proc.kill()
