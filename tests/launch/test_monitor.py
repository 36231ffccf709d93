"""The monitor's stopping rule, and its reaction to a learner that stops answering."""

import pytest

from launch import monitor as monitor_lib
from launch import status as status_lib


@pytest.mark.parametrize('rule, status, reason', [
    (monitor_lib.StoppingRule(max_learner_steps=10), status_lib.Status(learner_steps=10), 'max_learner_steps=10'),
    (monitor_lib.StoppingRule(max_env_steps=500), status_lib.Status(env_steps=501), 'max_env_steps=500'),
    (monitor_lib.StoppingRule(max_seconds=60), status_lib.Status(wall_s=61.0), 'max_seconds=60'),
    (monitor_lib.StoppingRule(target_eval_return=475), status_lib.Status(last_eval_return=480.0), '480 >= target 475'),
    (monitor_lib.StoppingRule(max_learner_steps=10, target_eval_return=475),
     status_lib.Status(learner_steps=9, last_eval_return=474.0), None),
    (monitor_lib.StoppingRule(target_eval_return=475), status_lib.Status(), None),
])
def test_stopping_rule(rule, status, reason):
  found = rule.reason_to_stop(status)
  if reason is None:
    assert found is None
  else:
    assert reason in found


class _Table:
  current_size = 5


class _Replay:
  def server_info(self, timeout=None):
    return {'priority_table': _Table()}

  def checkpoint(self):
    return '/tmp/checkpoint'


class _Counter:
  def __init__(self):
    self.saved = 0

  def get_counts(self):
    return {'actor_steps': 100, 'learner_steps': 3}

  def save_to_disk(self):
    self.saved += 1


class _VariableServer:
  def version(self):
    return 0


class _DyingLearner:
  """Answers `alive_calls` times, then raises like a courier client of a dead process."""

  def __init__(self, alive_calls):
    self._calls = alive_calls

  def resumed_from_step(self):
    return None

  def learner_steps(self):
    self._calls -= 1
    if self._calls < 0:
      raise ConnectionError('UNAVAILABLE: failed to connect')
    return 3


class _Actor:
  def __init__(self, answers=True):
    self._answers = answers

  def weights_version(self):
    if not self._answers:
      raise ConnectionError('UNAVAILABLE: failed to connect')
    return 2

  def restarts(self):
    return 1


@pytest.fixture
def stops(monkeypatch):
  stopped = []
  monkeypatch.setattr(monitor_lib.lp, 'wait_for_stop', lambda timeout=None: False)
  monkeypatch.setattr(monitor_lib.lp, 'stop', lambda: stopped.append(True))
  return stopped


def test_dead_learner_fails_the_run_and_stops_the_program(tmp_path, stops):
  counter = _Counter()
  monitor = monitor_lib.MonitorNode(
      str(tmp_path), 'priority_table', monitor_lib.StoppingRule(max_learner_steps=1000), _Replay(),
      counter, _VariableServer(), _DyingLearner(alive_calls=2), None, [_Actor()], period_s=0)
  monitor.run()
  status = status_lib.read_status(str(tmp_path / 'status.json'))
  assert status.state == 'failed' and 'learner stopped answering' in status.reason
  assert status.learner_steps == 3 and status.env_steps == 100 and status.replay_size == 5
  assert status.weight_staleness == 1 and status.actor_restarts == 1
  assert stops == [True] and counter.saved == 1


def test_actors_that_never_answer_fail_the_run(tmp_path, stops):
  monitor = monitor_lib.MonitorNode(
      str(tmp_path), 'priority_table', monitor_lib.StoppingRule(max_learner_steps=1000), _Replay(),
      _Counter(), _VariableServer(), _DyingLearner(alive_calls=10**6), None,
      [_Actor(answers=False), _Actor(answers=False)], period_s=0, startup_timeout_s=0)
  monitor.run()
  status = status_lib.read_status(str(tmp_path / 'status.json'))
  assert status.state == 'failed' and 'no actor answered within 0 s' in status.reason
  assert stops == [True]


def test_run_reaching_its_rule_finishes_the_learner_first(tmp_path, stops):
  class _Learner(_DyingLearner):
    finished = False

    def finish(self):
      self.finished = True
      return 4

  learner = _Learner(alive_calls=10**6)
  monitor = monitor_lib.MonitorNode(
      str(tmp_path), 'priority_table', monitor_lib.StoppingRule(max_env_steps=50), _Replay(),
      _Counter(), _VariableServer(), learner, None, [_Actor()], period_s=0)
  monitor.run()
  status = status_lib.read_status(str(tmp_path / 'status.json'))
  assert status.state == 'finished' and 'max_env_steps=50' in status.reason
  assert learner.finished and status.learner_steps == 4 and stops == [True]
