"""The Python zygote: one pre-initialised interpreter that forks Python instances.

Importing numpy and scikit-learn costs on the order of a second. The zygote pays it once: it
imports a configured list of heavy modules, then serves fork requests from the platform, so a
new instance pays only for its own module code. Standard library only; imports nothing of the
platform.

Protocol: JSON lines over fd 3 (a socket pair with the platform).
  zygote -> platform  {"op": "ready", "pid", "python": "3.11", "loaded": [...], "failed": {...},
                       "modules": [top-level third-party modules now in sys.modules], "threads"}
  platform -> zygote  {"op": "fork", "id", "env": {...}, "cwd", ["sandbox": {...}, "log": address]}
  zygote -> platform  {"op": "forked", "id", "pid"} | {"op": "fork-failed", "id", "error"}
  zygote -> platform  {"op": "exit", "pid", "code", "signal"}   (the zygote reaps its children)
EOF on fd 3 means the platform is gone: the zygote exits (its children are the platform's to stop).

A forked child, before it runs any function code:
  * becomes a session leader (os.setsid) so the platform can SIGKILL its whole group by pid;
  * drops the zygote's signal setup and closes the zygote's sockets; connects its stdout/stderr
    to the instance's own Runtime API listener (the platform reads them there, since the child is
    not the platform's child); every other inherited descriptor is pointed at /dev/null, so no
    socket, pipe or file is shared with the zygote or a sibling (and a stale Python object that
    still holds such a number can only ever close /dev/null);
  * replaces its environment, working directory and time zone with the instance's, forgets the
    zygote's temp dir, and reseeds `random` and numpy's global RandomState from the OS (a fork
    copies the parent's generator state: siblings would draw the same numbers).
Sandboxed platforms: the platform first starts the instance's sandbox (bubblewrap holding a
placeholder process: the function's code at /var/task, a private /tmp, its own PID, IPC, UTS, user
and, with the network denied, network namespaces) and names it in the fork request. The forked
child then *enters* it before any function code runs (enter_sandbox): it joins every namespace of
the placeholder (setns), takes the sandbox's unprivileged uid and gid, drops every capability
(and the bounding set), sets no_new_privs and the sandbox's rlimits, and forks once more, because
only a child is born into the sandbox's PID namespace. That grandchild is the instance; the child
waits for it and exits the way it did, so the zygote reports the instance's exit as before. The
zygote itself runs no function code and holds nothing of a function: it stays outside.

Known limits of forking (documented in the README): PYTHONHASHSEED is the zygote's for all its
children; variables a preloaded module reads at import (OPENBLAS_*, OMP_*, ...) keep the zygote's
values, so the platform spawns a fresh interpreter for functions that set them.
"""

import atexit
import ctypes
import gc
import importlib
import json
import os
import random
import resource
import select
import signal
import socket
import sys
import threading
import time
import traceback

_HERE = os.path.dirname(os.path.abspath(__file__))

import modelfn_runtime  # noqa: E402

sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

LOG_PATH = "/_modelfn/log/"


class Zygote:
    def __init__(self, channel):
        self.channel = channel
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        self.buffer = b""

    def send(self, message):
        self.channel.sendall((json.dumps(message) + "\n").encode("utf-8"))

    def preload(self, names):
        loaded, failed = [], {}
        for name in names:
            try:
                importlib.import_module(name)
                loaded.append(name)
            except BaseException as e:  # a broken module must not take the zygote down
                failed[name] = "%s: %s" % (type(e).__name__, e)
        return loaded, failed

    def serve(self):
        signal.set_wakeup_fd(self.wake_w.fileno())
        signal.signal(signal.SIGCHLD, lambda *_: None)
        while True:
            readable, _, _ = select.select([self.channel, self.wake_r], [], [])
            if self.wake_r in readable:
                try:
                    while self.wake_r.recv(4096):
                        pass
                except BlockingIOError:
                    pass
                self.reap()
            if self.channel in readable:
                data = self.channel.recv(65536)
                if not data:
                    return
                self.buffer += data
                while b"\n" in self.buffer:
                    line, self.buffer = self.buffer.split(b"\n", 1)
                    if line.strip():
                        self.handle(json.loads(line))
            self.reap()

    def handle(self, request):
        if request.get("op") != "fork":
            return
        try:
            pid = self.fork(request)
        except Exception as e:
            self.send({"op": "fork-failed", "id": request.get("id"), "error": "%s: %s" % (type(e).__name__, e)})
            return
        self.send({"op": "forked", "id": request.get("id"), "pid": pid})

    def fork(self, request):
        if threading.active_count() > 1:
            raise RuntimeError("the zygote runs %d threads; forking it is not safe" % threading.active_count())
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid != 0:
            return pid
        code = 1
        try:
            code = self.child(request)
        except SystemExit as e:
            if e.code is None:
                code = 0
            elif isinstance(e.code, int):
                code = e.code
            else:
                sys.stderr.write("%s\n" % e.code)
                code = 1
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            try:
                atexit._run_exitfuncs()
                modelfn_runtime._flush()
            finally:
                os._exit(code if isinstance(code, int) else 1)

    def child(self, request):
        began = time.time()
        os.setsid()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for sock in (self.channel, self.wake_r, self.wake_w):
            sock.close()
        env = request["env"]
        # The log streams are opened from here, before entering a sandbox (whose network may be
        # denied): "log" is the Runtime API's address as seen from outside.
        log_address = request.get("log") or env["AWS_LAMBDA_RUNTIME_API"]
        out = connect_log(log_address, "stdout")
        err = connect_log(log_address, "stderr")
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        out.close()
        err.close()
        for fd in inherited_fds():
            if fd > 2 and fd != devnull:
                os.dup2(devnull, fd, inheritable=False)
        os.close(devnull)
        if request.get("sandbox"):
            enter_sandbox(request["sandbox"])
            began = time.time()
        os.environ.clear()
        os.environ.update(env)
        os.chdir(request["cwd"])
        time.tzset()
        import tempfile

        tempfile.tempdir = None
        random.seed()
        numpy_random = sys.modules.get("numpy.random")
        if numpy_random is not None:
            numpy_random.seed()
        return modelfn_runtime.main(began=began)

    def reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if os.WIFSIGNALED(status):
                number = os.WTERMSIG(status)
                try:
                    name = signal.Signals(number).name
                except ValueError:
                    name = "SIG%d" % number
                self.send({"op": "exit", "pid": pid, "code": None, "signal": name})
            else:
                self.send({"op": "exit", "pid": pid, "code": os.WEXITSTATUS(status), "signal": None})


def connect_log(address, stream):
    """Open a stream to the instance's Runtime API listener: an HTTP upgrade, then raw bytes."""
    if address.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(address[len("unix:"):])
    else:
        host, _, port = address.rpartition(":")
        sock = socket.create_connection((host, int(port)))
        # Lines must reach the platform as they are written, not when Nagle's algorithm lets them go.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request = "GET %s%s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: modelfn-log\r\n\r\n" % (
        LOG_PATH,
        stream,
        address,
    )
    sock.sendall(request.encode("ascii"))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1024)
        if not chunk:
            raise ConnectionError("the platform refused the %s stream" % stream)
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError("the platform refused the %s stream: %r" % (stream, head[:80]))
    sock.shutdown(socket.SHUT_RD)
    return sock


_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_CAP_LAST = 63
# The order matters: the user namespace first (it grants the capabilities the others need),
# the PID namespace last (it only applies to children).
_NAMESPACES = ("user", "mnt", "uts", "ipc", "net", "cgroup", "pid")
_NS_GET_PARENT = 0xB702  # _IO(0xb7, 0x2), <linux/nsfs.h>


def _parent_userns(user_fd):
    """The parent of the user namespace behind user_fd, or None when that parent is ours."""
    import fcntl

    try:
        parent = fcntl.ioctl(user_fd, _NS_GET_PARENT)
    except OSError:
        return None  # no parent visible from here (EPERM): the namespace hangs below ours
    if os.fstat(parent).st_ino == os.stat("/proc/self/ns/user").st_ino:
        os.close(parent)
        return None
    return parent


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, "%s: %s" % (what, os.strerror(errno)))


def enter_sandbox(sandbox):
    """Join the instance's sandbox (see the module doc); returns in the instance process only."""
    target = int(sandbox["pid"])
    procs = sandbox.get("cgroupProcs")
    if procs:
        # The memory cgroup first (its file is not visible once the sandbox's mounts are joined):
        # the instance forked below is charged to it from its first page.
        with open(procs, "w") as f:
            f.write(str(os.getpid()))
    fds = {}
    for name in _NAMESPACES:
        path = "/proc/%d/ns/%s" % (target, name)
        try:
            if os.stat(path).st_ino == os.stat("/proc/self/ns/%s" % name).st_ino:
                continue  # shared with the host (the network, when it is allowed): nothing to join
            fds[name] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue  # a namespace this kernel does not have
    if "user" not in fds or "mnt" not in fds or "pid" not in fds:
        raise RuntimeError("the sandbox of pid %d is gone or incomplete" % target)
    if os.geteuid() == 0:
        os.setgroups([])
    # An unprivileged platform's bwrap (--disable-userns) runs the sandbox in a user namespace
    # nested in the one that owns its mounts: join that owner first (the platform's uid owns it),
    # then the other namespaces, then the nested one, which ends where the placeholder is.
    outer = _parent_userns(fds["user"])
    if outer is not None:
        _check(_LIBC.setns(outer, 0), "setns(user, outer)")
        os.close(outer)
    for name in _NAMESPACES[1:] + _NAMESPACES[:1]:
        if name in fds:
            _check(_LIBC.setns(fds[name], 0), "setns(%s)" % name)
            os.close(fds[name])
    os.chdir("/")
    uid, gid = int(sandbox["uid"]), int(sandbox["gid"])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    # Joining a user namespace grants every capability in it: give them all up, for good.
    for cap in range(_CAP_LAST + 1):
        _LIBC.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    _check(_LIBC.capset(ctypes.byref(header), data), "capset")
    _check(_LIBC.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(no_new_privs)")
    for name, value in (("RLIMIT_NPROC", sandbox.get("processes")), ("RLIMIT_DATA", sandbox.get("dataBytes")), ("RLIMIT_CORE", 0)):
        if value is not None:
            resource.setrlimit(getattr(resource, name), (int(value), int(value)))
    pid = os.fork()
    if pid == 0:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        return
    # The waiter: end as the instance ended, so the zygote reports its exit.
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def inherited_fds():
    fds = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            os.fstat(fd)
        except OSError:
            continue  # the descriptor listdir itself used
        fds.append(fd)
    return fds


def third_party_modules():
    """Top-level modules loaded from site-packages: a bundle that ships its own copy must not get ours."""
    names = set()
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if "site-packages" in path or "dist-packages" in path:
            names.add(name.split(".")[0])
    return sorted(names)


def main():
    channel = socket.socket(fileno=3)
    preload = [name for name in (sys.argv[1] if len(sys.argv) > 1 else "").split(",") if name]
    zygote = Zygote(channel)
    loaded, failed = zygote.preload(preload)
    # Objects created so far live as long as the zygote: keep the collector off their pages, so a
    # child's collections do not copy them (copy-on-write).
    gc.collect()
    gc.freeze()
    zygote.send(
        {
            "op": "ready",
            "pid": os.getpid(),
            "python": "%d.%d" % sys.version_info[:2],
            "loaded": loaded,
            "failed": failed,
            "modules": third_party_modules(),
            "threads": threading.active_count(),
        }
    )
    zygote.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
