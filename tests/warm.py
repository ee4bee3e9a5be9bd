"""Child processes that start warm: ``warm.Popen`` and ``warm.run`` are ``subprocess.Popen`` and
``subprocess.run`` for ``[sys.executable, "-c", CODE, ...]`` and ``[sys.executable, "-m", MODULE,
...]``, forked from a server process that has already imported torch, transformers, scikit-learn
and bertsent's CLI.

A fresh interpreter spends about 5 s importing those before a test's child does anything (measured
on the 2-core CI machine); forked from the server it starts in 0.07 s. The tests that send signals,
kill -9 or run two processes at once use it: the process, its signals, pipes, exit status and files
are real, ``main()`` runs as in a fresh interpreter, and the child ends through the interpreter's
own shutdown (threads joined, ``atexit``, the streams flushed, 120 when that fails). The tests whose
point is the interpreter itself (what an import loads or prints, a closed pipe at exit, the README
in a fresh Python) keep ``subprocess``. ``tests/test_warm.py`` compares the two.

What a warm child shares with the server, and so with its siblings:
- The imported modules, which read their variables when the server started, from the environment
  of the test run's start (``BASE_ENV``, taken when ``tests/conftest.py`` configures the run). A
  request whose environment differs from that in anything but ``READ_WHEN_USED`` is refused
  (``ValueError``): use ``subprocess`` for it. What the imports set themselves (scikit-learn sets
  ``KMP_*``) is set in the child too, as its own imports would.
- The hash seed, and anything else decided at interpreter start (the standard streams' buffering
  as for a pipe). ``random`` (by CPython at fork), NumPy's global generator and ``tempfile``'s
  folder are made fresh.

The server is one per test process, started on first use; it ends with that process (its standard
input reaches end of file) and kills the children still running then. A child's exit status comes
back over its own ``SOCK_SEQPACKET`` connection: the request with the child's three standard
streams, then the pid, then the ``waitpid`` status.
"""

from __future__ import annotations

import atexit
import ctypes
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
# What may differ between the server's environment and a child's: read when used, not at import
# (Textual's and Ray's: the server imports neither), or (the last two) applied again by bertsent's CLI
# when transformers is imported already. Anything else is refused until someone adds it here.
READ_WHEN_USED = (
    "BERTSENT_",
    "PYTEST_",
    "TEXTUAL_",
    "RAY_",
    "TMPDIR",
    "COLUMNS",
    "LINES",
    "PYTHONBREAKPOINT",
    "TOKENIZERS_PARALLELISM",
    "TRANSFORMERS_VERBOSITY",
    "HF_HUB_DISABLE_PROGRESS_BARS",
)


def _process_environment() -> dict[str, str]:
    """This process's environment as a child started with ``env=None`` inherits it: the C library's
    ``environ``, which also holds what libraries set there without ``os.environ``."""
    environ = ctypes.POINTER(ctypes.c_char_p).in_dll(ctypes.CDLL(None), "environ")
    pairs = []
    while environ[len(pairs)] is not None:
        pairs.append(os.fsdecode(environ[len(pairs)]).partition("="))
    return {key: value for key, _, value in pairs}


BASE_ENV = _process_environment()


# --- the client: the test's side ---


class _Server:
    """The running server: its process, its socket's path and the environment it imported under."""

    def __init__(self) -> None:
        folder = tempfile.mkdtemp(prefix="warm-", dir="/tmp")  # short: a socket path fits in 107 bytes
        self.path = os.path.join(folder, "socket")
        self.process = subprocess.Popen(
            [sys.executable, __file__, self.path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=BASE_ENV,
            cwd="/",
        )
        ready = self.process.stdout.readline()  # the environment after its imports
        if not ready.startswith("{"):
            self.process.kill()
            raise RuntimeError(f"the warm server did not start: {ready!r}")
        self.set_by_imports = {k: v for k, v in json.loads(ready).items() if k not in BASE_ENV}

    def refusal(self, env: dict[str, str]) -> str | None:
        keys = {k for k in env.keys() | BASE_ENV.keys() if not k.startswith(READ_WHEN_USED)}
        allowed = {k: {None, v} for k, v in self.set_by_imports.items()}  # set in the child as its imports would
        differ = sorted(k for k in keys if env.get(k) not in allowed.get(k, {BASE_ENV.get(k)}))
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
    """``subprocess.Popen`` whose child is forked from the warm server: the same arguments (``args``
    must be ``[sys.executable, "-c" or "-m", ...]``), pipes, ``pid``, signals, ``wait``, ``poll``,
    ``communicate`` and ``returncode``. Options a fork from the server cannot honour are refused."""

    def _execute_child(self, args, executable, preexec_fn, close_fds, pass_fds, cwd, env, startupinfo,
                       creationflags, shell, p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite,
                       restore_signals, gid, gids, uid, umask, start_new_session, process_group):  # fmt: skip
        args = [os.fsdecode(a) for a in args]
        if len(args) < 3 or args[0] != sys.executable or args[1] not in ("-c", "-m"):
            raise ValueError(f"warm.Popen runs `python -c CODE ...` or `python -m MODULE ...`, not {args[:2]}")
        defaults = (None, None, True, (), False, True, None, None, None, -1, False, -1)
        given = (executable, preexec_fn, close_fds, pass_fds, shell, restore_signals, gid, gids, uid, umask)
        if (*given, start_new_session, process_group) != defaults:
            raise ValueError("warm.Popen takes no executable, preexec_fn, pass_fds, shell, user or session options")
        cwd = os.path.abspath(os.fsdecode(cwd) if cwd is not None else os.getcwd())
        if not os.path.isdir(cwd):
            raise FileNotFoundError(2, "No such file or directory", cwd)
        server = _the_server()
        if env is None:
            env = _process_environment()
        else:
            env = {os.fsdecode(k): os.fsdecode(v) for k, v in env.items()}
        if refusal := server.refusal(env):
            raise ValueError(f"{refusal}; it reads them at import: use subprocess")
        request = json.dumps({"kind": args[1], "target": args[2], "args": args[3:], "cwd": cwd, "env": env})
        streams = [s if s != -1 else inherited for inherited, s in enumerate((p2cread, c2pwrite, errwrite))]
        self._link = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._link.connect(server.path)
            socket.send_fds(self._link, [request.encode()], streams)
            pid = self._link.recv(64)
            if not pid:
                raise RuntimeError("the warm server ended before it started the child")
            self.pid = int(pid)
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
        self._link.close()
        if not status:  # the server ended first: the child's status is lost, as for a reaped child
            raise ChildProcessError(f"the warm server ended before its child {self.pid}")
        return self.pid, int(status)

    def _internal_poll(self, _deadstate=None, *unused, **unused_keywords):
        if self.returncode is None and self._waitpid_lock.acquire(False):
            try:
                if self.returncode is None:
                    pid, status = self._try_wait(os.WNOHANG)
                    if pid == self.pid:
                        self._handle_exitstatus(status)
            except OSError:
                self.returncode = _deadstate if _deadstate is not None else -signal.SIGKILL
            finally:
                self._waitpid_lock.release()
        return self.returncode


def run(args, *, input=None, capture_output=False, timeout=None, check=False, **options):
    """``subprocess.run`` through :class:`Popen`."""
    if input is not None:
        if "stdin" in options:
            raise ValueError("stdin and input arguments may not both be used.")
        options["stdin"] = subprocess.PIPE
    if capture_output:
        if "stdout" in options or "stderr" in options:
            raise ValueError("stdout and stderr arguments may not be used with capture_output.")
        options["stdout"] = options["stderr"] = subprocess.PIPE
    with Popen(args, **options) as process:
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except BaseException:
            process.kill()
            process.wait()
            raise
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    if check:
        done.check_returncode()
    return done


# --- the server ---

_set_by_imports: dict[str, str] = {}


def serve(path: str) -> tuple[dict, list[int]] | None:
    """Serve requests until the test process ends (returns None); in a forked child, return its
    request and standard streams."""
    global _set_by_imports
    before = dict(os.environ)
    for name in PRELOAD:
        importlib.import_module(name)
    _set_by_imports = {k: v for k, v in os.environ.items() if k not in before}
    tempfile.gettempdir()  # as a library would: each child must look again
    if threading.active_count() != 1:
        sys.exit(f"warm: {threading.active_count()} Python threads after the imports: forking is unsafe")
    gc.collect()
    gc.freeze()  # the imported modules live on in every child, never scanned again
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    wake_read, wake_write = os.pipe()  # SIGCHLD wakes select: no polling for children that ended
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    print(json.dumps(dict(os.environ)), flush=True)  # ready
    server, children = os.getpid(), {}
    try:
        while True:
            readable, _, _ = select.select([listener, sys.stdin, wake_read], [], [])
            if sys.stdin in readable and not os.read(sys.stdin.fileno(), 1):
                return None  # the test process ended
            if wake_read in readable:
                os.read(wake_read, 4096)
            if listener in readable and (forked := _start_child(listener, children)):
                for fd in (wake_read, wake_write):
                    os.close(fd)
                return forked
            _report_ended(children)
    finally:
        if os.getpid() == server:
            for pid in children:
                try:
                    os.kill(pid, signal.SIGKILL)  # a child its test left running
                except ProcessLookupError:
                    pass
            os.unlink(path)
            os.rmdir(os.path.dirname(path))


def _start_child(listener: socket.socket, children: dict[int, socket.socket]):
    """Accept one request and fork its child: in the child, return (request, streams)."""
    link, _ = listener.accept()
    try:
        message, streams, _, _ = socket.recv_fds(link, 1 << 20, 3)
        request = json.loads(message)
    except (OSError, ValueError):
        link.close()
        return None
    pid = os.fork()
    if pid == 0:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        listener.close()
        for other in (*children.values(), link):
            other.close()
        return request, streams
    for stream in streams:
        os.close(stream)
    children[pid] = link
    try:
        link.send(str(pid).encode())
    except OSError:
        pass  # the test gave up waiting: the child is reaped as any other
    return None


def _report_ended(children: dict[int, socket.socket]) -> None:
    while children:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        link = children.pop(pid, None)
        if link is not None:
            try:
                link.send(str(status).encode())
            except OSError:
                pass  # nobody waits for it any more
            link.close()


def _become(request: dict, streams: list[int]) -> None:
    """Become ``python -c`` or ``python -m`` as asked: its streams, folder, environment and
    arguments, then its code. Returns, or raises SystemExit, as that interpreter's main would."""
    for number, stream in enumerate(streams):
        os.dup2(stream, number)
    for stream in set(streams) - {0, 1, 2}:
        os.close(stream)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update({**_set_by_imports, **request["env"]})
    tempfile.tempdir = None
    sys.modules["numpy"].random.seed()
    importlib.invalidate_caches()
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    sys.argv = [request["kind"], *request["args"]]
    sys.path[0] = "" if request["kind"] == "-c" else os.getcwd()
    try:
        if request["kind"] == "-c":
            exec(compile(request["target"], "<string>", "exec"), main.__dict__)
        else:
            runpy._run_module_as_main(request["target"])
    except SystemExit:
        raise
    except BaseException as error:
        error = error.with_traceback(error.__traceback__.tb_next)  # from the child's own code on
        sys.excepthook(type(error), error, error.__traceback__)
        if type(error) is KeyboardInterrupt:  # CPython ends by SIGINT after its shutdown
            threading._shutdown()
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        sys.exit(1)


if __name__ == "__main__":
    if forked := serve(sys.argv[1]):
        _become(*forked)  # then the interpreter shuts down as a fresh one would
