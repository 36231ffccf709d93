"""Keeps a local run's servers off the network: the run lives in a network namespace of its own.

Every server of the program listens on all interfaces, and the pinned stack offers no way to say
otherwise (checked on dm-reverb 0.7.0, dm-launchpad 0.5.0 and its courier):
- `reverb.Server(port=...)` hands only the port to `pybind.Server(tables, port, checkpointer)`,
  whose C++ listens on "[::]:" + port;
- Launchpad's `CourierNode.run` passes only `port=lp.get_port_from_address(...)` to
  `courier.Server`, whose `server.BuildAndStart(router, port, threads)` listens on "[::]:" + port.
Neither takes a host, and the address lives in compiled code, so a real 127.0.0.1 bind would need
a patched build or an LD_PRELOAD'ed `bind()` (a compiled shim the machine may not be able to
build). Instead the launcher re-executes itself, once and in the same process (same pid, so
signals and process groups behave as before), inside a new unprivileged user and network namespace
(Linux) whose only interface is a loopback it brings up: the servers still bind the wildcard
address, but the wildcard of that namespace is 127.0.0.1 and ::1 alone, so no other machine and no
process outside the run can connect. Every node process of local_mp inherits the namespace;
local_mt and test_mt host every node in the launcher itself. This module is the one place that
knows; only Linux system calls are used, no Launchpad or Reverb internals.

    python launch/private_network.py COMMAND...   # runs COMMAND inside a fresh namespace
"""

import ctypes
import errno
import fcntl
import os
import socket
import struct
import sys
from typing import List, NoReturn, Sequence

# From <linux/sched.h> and <linux/sockios.h>, <net/if.h>.
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
LOOPBACK = 'lo'
# Set in the environment of the command run inside the namespace, so that a namespace that still
# shows other interfaces is reported instead of re-entered forever.
ENTERED = 'MUZERO_PRIVATE_NETWORK'
# Exit status of the helper when it cannot make the namespace (the command never ran).
EXIT_NO_NAMESPACE = 3


class PrivateNetworkError(RuntimeError):
  """The namespace could not be made; says why and how to run without it."""


def interfaces() -> List[str]:
  """Names of the network interfaces this process sees (its network namespace's)."""
  return sorted(name for _, name in socket.if_nameindex())


def loopback_only() -> bool:
  """Whether this process's network namespace has no interface but loopback."""
  return interfaces() == [LOOPBACK]


def ensure(opt_out_flag: str) -> None:
  """Returns at once inside a loopback-only namespace; otherwise re-executes this process there.

  The command line is the interpreter's own (`sys.orig_argv`), so `python -m launch.local FLAGS`
  starts again with the same flags, now in the namespace, and comes back here to return.

  Args:
    opt_out_flag: the flag that runs without the namespace, named in errors.

  Raises:
    PrivateNetworkError: the namespace was entered but still shows other interfaces.
  """
  if loopback_only():
    return
  if os.environ.get(ENTERED):
    raise PrivateNetworkError(
        f'{ENTERED} is set but this process sees interfaces {interfaces()}, not only '
        f'{LOOPBACK!r}; pass {opt_out_flag} to run on the host network.')
  sys.stdout.flush()
  sys.stderr.flush()
  command = [sys.executable, *sys.orig_argv[1:]]
  # -I: the helper needs the standard library only, and its folder (launch/) must not shadow it.
  os.execv(sys.executable,
           [sys.executable, '-I', os.path.abspath(__file__), opt_out_flag, *command])


def _write(path: str, text: str) -> None:
  with open(path, 'w') as file:
    file.write(text)


def _bring_up_loopback() -> None:
  """Sets IFF_UP on 'lo' (a new network namespace starts with it down)."""
  with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
    request = struct.pack('16sH', LOOPBACK.encode(), 0).ljust(40, b'\0')
    flags = struct.unpack_from('16sH', fcntl.ioctl(probe, SIOCGIFFLAGS, request))[1]
    fcntl.ioctl(probe, SIOCSIFFLAGS,
                struct.pack('16sH', LOOPBACK.encode(), flags | IFF_UP).ljust(40, b'\0'))


def enter_namespace() -> None:
  """Moves this (single-threaded) process into a new user and network namespace with loopback up.

  The user namespace maps the caller's uid and gid to themselves, so files keep their owner and
  nothing runs as root; it also grants the capability to bring loopback up, which lasts until the
  next exec, and that is all it is used for.

  Raises:
    PrivateNetworkError: the kernel refused (e.g. unprivileged user namespaces disabled, or the
      process has threads).
  """
  uid, gid = os.getuid(), os.getgid()
  libc = ctypes.CDLL(None, use_errno=True)
  if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
    code = ctypes.get_errno()
    raise PrivateNetworkError(
        f'unshare(CLONE_NEWUSER | CLONE_NEWNET) failed with {errno.errorcode.get(code, code)} '
        f'({os.strerror(code)}); unprivileged user namespaces may be disabled on this machine '
        '(sysctl kernel.unprivileged_userns_clone, user.max_user_namespaces, or an AppArmor or '
        'seccomp policy)')
  try:
    _write('/proc/self/setgroups', 'deny')
    _write('/proc/self/uid_map', f'{uid} {uid} 1')
    _write('/proc/self/gid_map', f'{gid} {gid} 1')
    _bring_up_loopback()
  except OSError as error:
    raise PrivateNetworkError(f'the new namespace could not be set up: {error}') from error


def main(argv: Sequence[str]) -> NoReturn:
  """`private_network.py OPT_OUT_FLAG COMMAND...`: runs COMMAND in a loopback-only namespace."""
  if len(argv) < 3:
    sys.exit(f'usage: {argv[0]} OPT_OUT_FLAG COMMAND..., got {list(argv)}')
  opt_out_flag, command = argv[1], list(argv[2:])
  try:
    enter_namespace()
  except PrivateNetworkError as error:
    print(f'error: local runs keep their servers on loopback in a private network namespace, '
          f'and none could be made: {error}. Pass {opt_out_flag} to run on the host network '
          '(every server then listens on all interfaces).', file=sys.stderr)
    sys.exit(EXIT_NO_NAMESPACE)
  os.environ[ENTERED] = '1'
  os.execv(command[0], command)


if __name__ == '__main__':
  main(sys.argv)
