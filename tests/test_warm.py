"""The warm children (tests/warm.py) behave as fresh interpreters do: each case runs the same
command through ``subprocess`` and through ``warm`` and compares what came back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import warm

CASES = {
    "exit status": ["-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"],
    "exit with a message": ["-c", "raise SystemExit('gone')"],
    "exit with None": ["-c", "raise SystemExit(None)"],
    "an uncaught exception": ["-c", "def f():\n    raise ValueError('x')\nf()"],
    "KeyboardInterrupt": ["-c", "raise KeyboardInterrupt"],
    "a KeyboardInterrupt subclass": ["-c", "class Stop(KeyboardInterrupt): pass\nraise Stop"],
    "arguments": ["-c", "import sys; print(sys.argv, sys.path[0] == '')", "a", "b c"],
    "a module": ["-m", "json.tool", "--compact"],
    "bertsent": ["-m", "bertsent.cli", "tokenize", "a visually stunning rumination on love"],
    "atexit and threads at the end": [
        "-c",
        "import atexit, threading, time\natexit.register(print, 'atexit ran')\n"
        "threading.Thread(target=lambda: (time.sleep(0.2), print('thread done'))).start()",
    ],
    "a failing flush at exit": ["-c", "import os, sys; print('x'); os.close(1)"],
    "stdin read to the end": ["-c", "import sys; print(repr(sys.stdin.read()), sys.stdin.encoding)"],
    "where it runs": ["-c", "import os, tempfile; print(os.getcwd(), tempfile.gettempdir(), os.environ['BERTSENT_X'])"],
}


@pytest.mark.parametrize("case", CASES)
def test_a_warm_child_ends_as_a_fresh_interpreter_does(case, tmp_path, monkeypatch):
    monkeypatch.setenv("BERTSENT_X", "per child")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    command = [sys.executable, *CASES[case]]
    options = {"input": '{"a": [1, 2]}\n', "capture_output": True, "text": True, "cwd": tmp_path, "timeout": 120}
    fresh, forked = subprocess.run(command, **options), warm.run(command, **options)
    assert (forked.returncode, forked.stdout, forked.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)


def test_inherited_streams_are_the_test_process_own(capfd):
    command = [sys.executable, "-c", "import sys; print('to stdout'); print('to stderr', file=sys.stderr)"]
    subprocess.run(command, check=True)
    fresh = capfd.readouterr()
    warm.run(command, check=True)
    assert capfd.readouterr() == fresh == ("to stdout\n", "to stderr\n")


@pytest.mark.parametrize(
    ("signum", "handler", "status"),
    [
        (signal.SIGTERM, "", -signal.SIGTERM),
        (signal.SIGINT, "", -signal.SIGINT),
        (signal.SIGKILL, "", -signal.SIGKILL),
        (signal.SIGTERM, "signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))", 143),
    ],
)
def test_a_signal_reaches_the_child_and_its_status_comes_back(signum, handler, status):
    code = f"import signal, sys, time\n{handler}\nprint('ready', flush=True)\ntime.sleep(60)"
    child = warm.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "ready\n" and child.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        child.wait(timeout=0.05)
    child.send_signal(signum)
    assert child.wait(timeout=60) == status
    assert ("KeyboardInterrupt" in child.stderr.read()) == (signum == signal.SIGINT)


def test_children_are_forked_warm_and_each_draws_its_own_random_numbers():
    code = "import random, sys, numpy; print('torch' in sys.modules, random.random(), numpy.random.rand())"
    first, second = (warm.run([sys.executable, "-c", code], capture_output=True, text=True) for _ in range(2))
    assert first.stdout.startswith("True ") and second.stdout.startswith("True ")
    assert first.stdout.split()[1] != second.stdout.split()[1] and first.stdout.split()[2] != second.stdout.split()[2]


def test_what_popen_refuses_is_refused_and_the_server_carries_on(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError):
        warm.Popen([sys.executable, "-c", "pass"], cwd=tmp_path / "missing")
    with pytest.raises(ValueError, match="python -c"):
        warm.Popen([sys.executable, "script.py"])
    with pytest.raises(ValueError, match="session options"):
        warm.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0" if os.environ.get("HF_HUB_OFFLINE") == "1" else "1")
    with pytest.raises(ValueError, match="HF_HUB_OFFLINE differ"):
        warm.Popen([sys.executable, "-c", "pass"])
    monkeypatch.undo()
    assert warm.run([sys.executable, "-c", "print('still here')"], capture_output=True).stdout == b"still here\n"
