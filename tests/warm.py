"""Child processes that start warm: ``warm.Popen`` and ``warm.run`` are ``subprocess.Popen`` and
``subprocess.run`` for ``[sys.executable, "-c", CODE, ...]`` and ``[sys.executable, "-m", MODULE,
...]``, forked from a server process that has already imported torch, transformers, scikit-learn
and bertsent's CLI.

A fresh interpreter spends about 4.3 s of CPU importing torch and transformers' BERT before a test's
child does anything (measured on the 2-core CI machine); forked from the server it starts in about
0.05 s. The tests that send signals, kill -9 or run two processes at once use it: the process, its
signals, pipes, exit status and files are real, and ``main()`` runs as in a fresh interpreter. The
tests whose point is the interpreter itself (what an import loads, what a library prints at import,
a closed pipe at exit, the README in a fresh Python) keep ``subprocess``.

How a child differs from a fresh ``python``, and what this module does about it:
- Modules are already imported, and read their variables when the server started. A request whose
  environment differs from that in anything but ``READ_WHEN_USED`` is refused (``ValueError``): use
  ``subprocess`` for it. What the imports set themselves (scikit-learn sets ``KMP_*``) is set in the
  child too, as its own imports would.
- It ends like an interpreter: ``SystemExit`` codes, a traceback and 1 for an uncaught exception,
  death by SIGINT for an uncaught ``KeyboardInterrupt``, threads joined, ``atexit`` run, the standard
  streams flushed (120 when that fails).
- ``random``, NumPy's global generator and ``tempfile``'s folder are fresh in each child.

The server is one per test process, started on first use, and ends when that process does (its
standard input reaches end of file). It waits for its children, so their exit statuses come back
over a socket (one ``SOCK_SEQPACKET`` connection per child: a request with the child's three
standard streams, then its pid, then its ``waitpid`` status).
"""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import os
import runpy
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import types

PRELOAD = (
    "numpy",
    "torch",
    "transformers.models.bert.modeling_bert",
    "sklearn.linear_model",
    "bertsent.cli.main",
    "bertsent.core.jobs",
)
# What may differ between the server's environment and a child's: read when used, not at import,
# or (the last two) applied again by bertsent's CLI when transformers is imported already.
READ_WHEN_USED = (
    "BERTSENT_",
    "PYTEST_",
    "TMPDIR",
    "COLUMNS",
    "LINES",
    "PYTHONBREAKPOINT",
    "TRANSFORMERS_VERBOSITY",
    "HF_HUB_DISABLE_PROGRESS_BARS",
)
REAP_EVERY_S = 0.005  # how often the server looks for children that ended, while any is running


# --- the client: the test's side ---


class _Server:
    """The running server: its process, its socket's path and the environment it imported under."""

    def __init__(self) -> None:
        folder = tempfile.mkdtemp(prefix="warm-", dir="/tmp")  # short: a socket path fits in 107 bytes
        self.path = os.path.join(folder, "socket")
        self.process = subprocess.Popen(
            [sys.executable, __file__, self.path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        ready = self.process.stdout.readline()  # its environment before and after its imports
        if not ready.startswith("{"):
            raise RuntimeError(f"the warm server did not start: {ready!r}")
        self.before, self.after = json.loads(ready).values()
        # Set in this process's C environment by a library, not through os.environ (a terminal size):
        # a child started with env=None inherits them.
        self.set_outside_python = {k: v for k, v in self.before.items() if k not in os.environ}

    def refusal(self, env: dict[str, str]) -> str | None:
        keys = {k for k in env.keys() | self.before.keys() if not k.startswith(READ_WHEN_USED)}
        set_by_imports = self.after.keys() - self.before.keys()
        differ = sorted(
            k
            for k in keys
            if env.get(k) != self.before.get(k) and not (k in set_by_imports and env.get(k) == self.after[k])
        )
        return f"{', '.join(differ)} differ(s) from the warm server's environment" if differ else None


_server: _Server | None = None
_server_lock = threading.Lock()


def _the_server() -> _Server:
    global _server
    with _server_lock:
        if _server is None or _server.process.poll() is not None:
            _server = _Server()
        return _server


class Popen(subprocess.Popen):
    """``subprocess.Popen`` whose child is forked from the warm server: same arguments (``args``
    must be ``[sys.executable, "-c" or "-m", ...]``), same pipes, ``pid``, signals, ``wait``,
    ``poll``, ``communicate`` and ``returncode``."""

    def _execute_child(self, args, executable, preexec_fn, close_fds, pass_fds, cwd, env, startupinfo,
                       creationflags, shell, p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite,
                       *unused):  # fmt: skip
        args = [os.fsdecode(a) for a in args]
        if shell or preexec_fn or pass_fds or executable or len(args) < 3 or args[:1] != [sys.executable]:
            raise ValueError(f"warm.Popen runs `python -c CODE ...` or `python -m MODULE ...`, not {args[:2]}")
        if args[1] not in ("-c", "-m"):
            raise ValueError(f"warm.Popen runs `python -c` or `python -m`, not {args[1]!r}")
        server = _the_server()
        if env is None:
            env = {**server.set_outside_python, **os.environ}
        else:
            env = {os.fsdecode(k): os.fsdecode(v) for k, v in env.items()}
        if refusal := server.refusal(env):
            raise ValueError(f"{refusal}; it reads them at import: use subprocess")
        request = {"kind": args[1], "target": args[2], "args": args[3:], "cwd": os.fsdecode(cwd or os.getcwd())}
        request["env"] = env
        streams = [s if s != -1 else inherited for inherited, s in enumerate((p2cread, c2pwrite, errwrite))]
        self._link = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._link.connect(server.path)
            socket.send_fds(self._link, [json.dumps(request).encode()], streams)
            self.pid = int(self._link.recv(64))
        except BaseException:
            self._link.close()
            raise
        self._child_created = True
        self._close_pipe_fds(p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite)

    def _try_wait(self, wait_flags):
        self._link.setblocking(not wait_flags & os.WNOHANG)
        try:
            status = self._link.recv(64)
        except BlockingIOError:
            return 0, 0
        if not status:
            raise ChildProcessError(f"the warm server ended before child {self.pid}")
        self._link.close()
        return self.pid, int(status)

    def _internal_poll(self, _deadstate=None, *unused, **unused_keywords):
        if self.returncode is None and self._waitpid_lock.acquire(False):
            try:
                if self.returncode is None:
                    pid, status = self._try_wait(os.WNOHANG)
                    if pid == self.pid:
                        self._handle_exitstatus(status)
            except OSError:
                if _deadstate is not None:
                    self.returncode = _deadstate
            finally:
                self._waitpid_lock.release()
        return self.returncode


def run(args, *, input=None, capture_output=False, timeout=None, check=False, **options):
    """``subprocess.run`` through :class:`Popen`."""
    if capture_output:
        options["stdout"] = options["stderr"] = subprocess.PIPE
    if input is not None:
        options["stdin"] = subprocess.PIPE
    with Popen(args, **options) as process:
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    if check:
        done.check_returncode()
    return done


# --- the server ---

_set_by_imports: dict[str, str] = {}


def serve(path: str) -> None:
    global _set_by_imports
    before = dict(os.environ)
    for name in PRELOAD:
        importlib.import_module(name)
    _set_by_imports = {k: v for k, v in os.environ.items() if k not in before}
    if threading.active_count() != 1:
        sys.exit(f"warm: {threading.active_count()} Python threads after the imports: forking is unsafe")
    gc.collect()
    gc.freeze()  # the imported modules live on in every child, never scanned again
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    print(json.dumps({"before": before, "after": dict(os.environ)}), flush=True)  # ready
    try:
        _serve(listener)
    finally:
        os.unlink(path)
        os.rmdir(os.path.dirname(path))


def _serve(listener: socket.socket) -> None:
    children: dict[int, socket.socket] = {}
    while True:
        readable, _, _ = select.select([listener, sys.stdin], [], [], REAP_EVERY_S if children else None)
        if sys.stdin in readable and not os.read(sys.stdin.fileno(), 1):
            return  # the test process ended
        if listener in readable:
            link, _ = listener.accept()
            message, streams, _, _ = socket.recv_fds(link, 1 << 20, 3)
            pid = os.fork()
            if pid == 0:
                listener.close()
                for other in (*children.values(), link):
                    other.close()
                _child(json.loads(message), streams)
            for stream in streams:
                os.close(stream)
            link.send(str(pid).encode())
            children[pid] = link
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            link = children.pop(pid)
            try:
                link.send(str(status).encode())
            except OSError:
                pass  # nobody waits for it any more
            link.close()


def _child(request: dict, streams: list[int]) -> None:
    """Become ``python -c`` or ``python -m`` as asked, and exit as that interpreter would."""
    for number, stream in enumerate(streams):
        os.dup2(stream, number)
    for stream in set(streams) - {0, 1, 2}:
        os.close(stream)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update({**_set_by_imports, **request["env"]})
    tempfile.tempdir = None
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    sys.argv = [request["kind"], *request["args"]]
    sys.path[0] = "" if request["kind"] == "-c" else os.getcwd()
    status, interrupted = 0, False
    try:
        if request["kind"] == "-c":
            exec(compile(request["target"], "<string>", "exec"), main.__dict__)
        else:
            runpy._run_module_as_main(request["target"])
    except SystemExit as exit:
        status = _exit_status(exit.code)
    except BaseException as error:
        error = error.with_traceback(error.__traceback__.tb_next)  # from the child's own code on
        sys.excepthook(type(error), error, error.__traceback__)
        status, interrupted = 1, isinstance(error, KeyboardInterrupt)
    threading._shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None and not stream.closed:
                stream.flush()
        except OSError:
            status = status or 120
    if interrupted:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(status)


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    serve(sys.argv[1])
