"""launch.processes finds a local_mp node's process by the log file its output goes to."""

import os
import subprocess

import pytest

from launch import processes


@pytest.fixture
def fake_actor(tmp_path):
  """A process whose standard output is RUN_DIR/logs/processes/actor/1, as local_mp starts one."""
  log_directory = tmp_path / 'logs' / 'processes' / 'actor'
  log_directory.mkdir(parents=True)
  with open(log_directory / '1', 'w') as output:
    process = subprocess.Popen(['sleep', '60'], stdout=output)
  yield process
  process.kill()
  process.wait()


def test_a_node_is_the_process_writing_to_its_log(tmp_path, fake_actor):
  assert processes.node_processes(str(tmp_path)) == {('actor', 1): fake_actor.pid}
  assert processes.node_pid(str(tmp_path), 'actor', 1) == fake_actor.pid


def test_a_node_that_is_not_running_is_named_with_those_that_are(tmp_path, fake_actor):
  with pytest.raises(ValueError, match=r"no process of node learner 0 .*running: actor 1"):
    processes.node_pid(str(tmp_path), 'learner', 0)
  with pytest.raises(ValueError, match=r'no process of node actor 0 .*running: actor 1'):
    processes.node_pid(os.fspath(tmp_path), 'actor', 0)
