"""The warm children (tests/warm.py) behave as fresh interpreters do: each case runs the same
command through ``subprocess`` and through ``warm`` and compares what came back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import warm

CASES = {
    "exit status": ["-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"],
    "exit with a message": ["-c", "raise SystemExit('gone')"],
    "exit with None": ["-c", "raise SystemExit(None)"],
    "an uncaught exception": ["-c", "def f():\n    raise ValueError('x')\nf()"],
    "KeyboardInterrupt": ["-c", "raise KeyboardInterrupt"],
    "arguments": ["-c", "import sys; print(sys.argv, sys.path[0] == '')", "a", "b c"],
    "a module": ["-m", "json.tool", "--compact"],
    "atexit and threads at the end": [
        "-c",
        "import atexit, threading, time\natexit.register(print, 'atexit ran')\n"
        "threading.Thread(target=lambda: (time.sleep(0.2), print('thread done'))).start()",
    ],
    "stdin read to the end": ["-c", "import sys; print(repr(sys.stdin.read()), sys.stdin.encoding)"],
    "where it runs": ["-c", "import os, tempfile; print(os.getcwd(), tempfile.gettempdir(), os.environ['BERTSENT_X'])"],
}


@pytest.mark.parametrize("case", CASES)
def test_a_warm_child_ends_as_a_fresh_interpreter_does(case, tmp_path, monkeypatch):
    monkeypatch.setenv("BERTSENT_X", "per child")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    command = [sys.executable, *CASES[case]]
    options = {"input": '{"a": [1, 2]}\n', "capture_output": True, "text": True, "cwd": tmp_path, "timeout": 60}
    fresh, forked = subprocess.run(command, **options), warm.run(command, **options)
    assert (forked.returncode, forked.stdout, forked.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_a_signal_reaches_the_child_and_its_status_comes_back(signum):
    code = "import time; print('ready', flush=True); time.sleep(60)"
    child = warm.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "ready\n" and child.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        child.wait(timeout=0.05)
    child.send_signal(signum)
    assert child.wait(timeout=60) == -signum
    assert ("KeyboardInterrupt" in child.stderr.read()) == (signum == signal.SIGINT)


def test_a_child_starts_without_importing_again():
    warm.run([sys.executable, "-c", "pass"], check=True)  # the server is up
    start = time.monotonic()
    done = warm.run([sys.executable, "-c", "import sys; print('torch' in sys.modules)"], capture_output=True)
    assert done.stdout == b"True\n" and time.monotonic() - start < 2


def test_a_variable_read_at_import_is_refused(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0" if os.environ.get("HF_HUB_OFFLINE") == "1" else "1")
    with pytest.raises(ValueError, match="HF_HUB_OFFLINE differ"):
        warm.Popen([sys.executable, "-c", "pass"])
    with pytest.raises(ValueError, match="python -c"):
        warm.Popen([sys.executable, "script.py"])
