"""Local runs are reachable through loopback only: every listening socket of a run, read from /proc.

A socket is reachable only through loopback when it is bound to a loopback address, or bound to a
wildcard address in a network namespace whose only interface is loopback (`launch.private_network`:
Reverb and Courier in the pinned stack always bind the wildcard).
"""

import dataclasses
import ipaddress
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from typing import Iterable, List

import psutil
import pytest

from launch import private_network
from tests.launch import test_program

TCP_LISTEN = '0A'
# replay (Reverb) and one Courier server per other node: counter, variable_server, learner, one
# actor, evaluator, monitor.
SERVERS_OF_SMALL_RUN = 7


@dataclasses.dataclass(frozen=True)
class Listener:
  pid: int
  address: str
  port: int
  namespace: str  # e.g. 'net:[4026531840]'
  interfaces: tuple  # of the socket's network namespace

  def loopback_only(self) -> bool:
    address = ipaddress.ip_address(self.address)
    if getattr(address, 'ipv4_mapped', None) is not None:
      address = address.ipv4_mapped
    if address.is_loopback:
      return True
    return address.is_unspecified and self.interfaces == (private_network.LOOPBACK,)


def _hex_address(text: str) -> str:
  """An address of /proc/net/tcp{,6} (host-order 32-bit words in hex) as text."""
  raw = bytes.fromhex(text)
  words = struct.unpack(f'<{len(raw) // 4}I', raw)
  packed = struct.pack(f'>{len(words)}I', *words)
  return socket.inet_ntop(socket.AF_INET if len(packed) == 4 else socket.AF_INET6, packed)


def listening_sockets(pids: Iterable[int]) -> List[Listener]:
  """The TCP sockets in LISTEN state that the processes `pids` hold open; gone processes skipped."""
  listeners = []
  for pid in pids:
    try:
      inodes = set()
      for fd in os.listdir(f'/proc/{pid}/fd'):
        try:
          target = os.readlink(f'/proc/{pid}/fd/{fd}')
        except FileNotFoundError:
          continue
        if target.startswith('socket:['):
          inodes.add(target[len('socket:['):-1])
      namespace = os.readlink(f'/proc/{pid}/ns/net')
      with open(f'/proc/{pid}/net/dev') as dev:
        interfaces = tuple(sorted(line.split(':')[0].strip() for line in dev.readlines()[2:]))
      for table in ('tcp', 'tcp6'):
        with open(f'/proc/{pid}/net/{table}') as rows:
          for row in rows.readlines()[1:]:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == TCP_LISTEN and inode in inodes:
              address, port = local.split(':')
              listeners.append(Listener(pid, _hex_address(address), int(port, 16), namespace,
                                        interfaces))
    except (FileNotFoundError, ProcessLookupError):
      continue
  return listeners


def _run_processes(launcher_pid: int) -> List[int]:
  try:
    launcher = psutil.Process(launcher_pid)
    return [launcher_pid] + [child.pid for child in launcher.children(recursive=True)]
  except psutil.NoSuchProcess:
    return []


def test_the_helper_runs_a_command_in_a_loopback_only_namespace():
  probe = ('import os, socket; server = socket.create_server(("", 0)); '
           'socket.create_connection(("127.0.0.1", server.getsockname()[1])).close(); '
           'print(os.readlink("/proc/self/ns/net"), [name for _, name in socket.if_nameindex()], '
           'os.environ["MUZERO_PRIVATE_NETWORK"])')
  output = subprocess.run(
      [sys.executable, '-I', private_network.__file__, '--noprivate_network', sys.executable, '-c',
       probe], check=True, capture_output=True, text=True, timeout=60).stdout.split()
  namespace, interfaces, entered = output[0], ' '.join(output[1:-1]), output[-1]
  assert namespace != os.readlink('/proc/self/ns/net')
  assert interfaces == "['lo']" and entered == '1'  # And loopback is up: the connection worked.


@pytest.mark.parametrize('launch_type', ['local_mp', 'test_mt'])
def test_a_local_run_listens_on_loopback_only(tmp_path, launch_type):
  # Watches the run until all its servers listen, then kills it: the stop is tested elsewhere.
  process = subprocess.Popen(
      [sys.executable, '-m', 'launch.local', f'--run_dir={tmp_path / "run"}',
       f'--launch_type={launch_type}', '--max_seconds=600', *test_program.SMALL_RUN],
      cwd=test_program.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
      start_new_session=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES=''))
  listeners = []
  try:
    deadline = time.time() + 240
    while len(listeners) < SERVERS_OF_SMALL_RUN and time.time() < deadline:
      assert process.poll() is None, f'the run ended early: {process.communicate()[1][-3000:]}'
      time.sleep(1.0)
      listeners = listening_sockets(_run_processes(process.pid))
  finally:
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
  listing = '\n'.join(map(str, listeners))
  print(listing)
  assert len(listeners) >= SERVERS_OF_SMALL_RUN, f'only these servers came up:\n{listing}'
  assert all(listener.loopback_only() for listener in listeners), listing
  if private_network.interfaces() != [private_network.LOOPBACK]:
    # This machine has a network, so the run made a namespace of its own.
    assert os.readlink('/proc/self/ns/net') not in {listener.namespace for listener in listeners}


def test_listeners_on_the_host_network_are_caught():
  # The check itself: a wildcard bind here (the host's namespace, with more than loopback when
  # this machine has a network) fails it; a loopback bind passes.
  with socket.create_server(('127.0.0.1', 0)) as loopback, \
       socket.create_server(('0.0.0.0', 0)) as everywhere:
    found = {listener.port: listener for listener in listening_sockets([os.getpid()])}
    assert found[loopback.getsockname()[1]].loopback_only()
    host_has_network = private_network.interfaces() != [private_network.LOOPBACK]
    assert found[everywhere.getsockname()[1]].loopback_only() is not host_has_network
