"""A local_mp run seen as processes, for fault injection (tests, `bench.chaos`) and diagnosis.

Launchpad 0.5 starts every node as `process_entry.py --data_file ...`, which does not say which
node it is, but local_mp sends each node's output to RUN_DIR/logs/processes/<group>/<index>, so
a node is the process whose standard output is that file.
"""

import os
import signal
import subprocess
import sys
import time
from typing import Callable, Dict, Optional, Sequence, Tuple

from launch import monitor as monitor_lib
from launch import status as status_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def node_processes(run_dir: str) -> Dict[Tuple[str, int], int]:
  """{(group, index): pid} of the running nodes of the local_mp run in `run_dir`, e.g.
  {('learner', 0): 4242, ('actor', 1): 4250, ...}."""
  logs = os.path.join(os.path.abspath(run_dir), 'logs', 'processes')
  found = {}
  for name in os.listdir('/proc'):
    if not name.isdigit():
      continue
    try:
      output = os.readlink(f'/proc/{name}/fd/1')
    except OSError:
      continue  # Gone meanwhile, or not ours.
    group_directory, index = os.path.split(output)
    if os.path.dirname(group_directory) == logs and index.isdigit():
      found[(os.path.basename(group_directory), int(index))] = int(name)
  return found


def node_pid(run_dir: str, group: str, index: int = 0) -> int:
  """The pid of node (`group`, `index`) of the local_mp run in `run_dir`.

  Raises:
    ValueError: no such node is running; the message names the nodes that are.
  """
  running = node_processes(run_dir)
  if (group, index) not in running:
    names = ', '.join(f'{name} {number}' for name, number in sorted(running)) or 'none'
    raise ValueError(f'no process of node {group} {index} in {run_dir} (its output would go to '
                     f'logs/processes/{group}/{index}); running: {names}.')
  return running[(group, index)]


class LocalRun:
  """`python -m launch.local` started in a process group of its own, to be followed and killed.

  Its output goes to `output_path` (a pipe nobody reads would fill up and block it). A resumed
  run directory's status.json is the previous launch's until the launcher, seconds later,
  removes it: it is removed here first, so that `status()` is this launch's or None.
  """

  def __init__(self, run_dir: str, flags: Sequence[str], output_path: str,
               python: str = sys.executable):
    self.run_dir = run_dir
    if os.path.exists(os.path.join(run_dir, monitor_lib.STATUS_FILE)):
      os.remove(os.path.join(run_dir, monitor_lib.STATUS_FILE))
    self._output = open(output_path, 'w+')  # pylint: disable=consider-using-with
    self.process = subprocess.Popen(  # pylint: disable=consider-using-with
        [python, '-m', 'launch.local', f'--run_dir={run_dir}', *flags], cwd=ROOT,
        stdout=self._output, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES=''))

  def output(self) -> str:
    self._output.seek(0)
    return self._output.read()

  def status(self) -> Optional[status_lib.Status]:
    """This launch's status.json, or None before the monitor has written it."""
    path = os.path.join(self.run_dir, monitor_lib.STATUS_FILE)
    try:
      return status_lib.read_status(path)
    except FileNotFoundError:
      return None

  def wait_for(self, condition: Callable[[status_lib.Status], bool], what: str,
               timeout_s: float) -> status_lib.Status:
    """Polls `condition(status)` every second until it holds; returns that status.

    Raises:
      RuntimeError: the program ended first, or `timeout_s` passed (then it is killed).
    """
    deadline = time.time() + timeout_s
    while time.time() < deadline:
      status = self.status()
      if status is not None and condition(status):
        return status
      if self.process.poll() is not None:
        raise RuntimeError(f'the program ended before {what}:\n{self.output()[-5000:]}')
      time.sleep(1.0)
    self.kill()
    raise RuntimeError(f'no {what} within {timeout_s:g} s:\n{self.output()[-5000:]}')

  def wait_for_exit(self, timeout_s: float) -> int:
    """The launcher's exit code; kills the group and raises RuntimeError after `timeout_s`."""
    try:
      return self.process.wait(timeout_s)
    except subprocess.TimeoutExpired:
      self.kill()
      raise RuntimeError(f'the program did not stop within {timeout_s:g} s:\n'
                         f'{self.output()[-5000:]}') from None

  def kill_node(self, group: str, index: int = 0) -> None:
    """kill -9 of one node; ValueError if it is not running (`node_pid`)."""
    os.kill(node_pid(self.run_dir, group, index), signal.SIGKILL)

  def kill(self) -> None:
    """kill -9 of the whole process group: launcher and every node."""
    os.killpg(self.process.pid, signal.SIGKILL)
    self.process.wait()
