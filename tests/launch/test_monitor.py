"""The monitor's stopping rule and hold window, and its reaction to nodes that stop answering or
report a failure."""

import types

import pytest

from launch import curves
from launch import monitor as monitor_lib
from launch import status as status_lib


@pytest.mark.parametrize('rule, status, reason', [
    (monitor_lib.StoppingRule(max_learner_steps=10), status_lib.Status(learner_steps=10), 'max_learner_steps=10'),
    (monitor_lib.StoppingRule(max_env_steps=500), status_lib.Status(env_steps=501), 'max_env_steps=500'),
    (monitor_lib.StoppingRule(max_seconds=60), status_lib.Status(wall_s=61.0), 'max_seconds=60'),
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


def test_target_without_hold_stops_at_the_first_evaluation_reaching_it():
  rule = monitor_lib.StoppingRule(target_eval_return=475)
  status = status_lib.Status(wall_s=30.0, env_steps=900)
  rule.record_evaluation(status, 40, 470.0)
  assert status.first_target_s is None and rule.reason_to_stop(status) is None
  rule.record_evaluation(status, 50, 480.0)
  assert (status.first_target_s, status.first_target_env_steps, status.first_target_learner_steps) == (30.0, 900, 50)
  assert '480 >= target 475' in rule.reason_to_stop(status) and rule.held(status)


def test_hold_window_counts_every_evaluation_after_the_first_at_the_target():
  rule = monitor_lib.StoppingRule(target_eval_return=475, hold_s=60)
  status = status_lib.Status(wall_s=100.0)
  rule.record_evaluation(status, 10, 490.0)
  status.wall_s = 120.0
  rule.record_evaluation(status, 20, 480.0)
  assert rule.held(status) is None
  # A fall below the target decides the verdict, but the run still goes on to the window's end.
  for wall_s, evaluation_return in ((140.0, 300.0), (159.0, 500.0)):
    status.wall_s = wall_s
    rule.record_evaluation(status, int(wall_s), evaluation_return)
    assert rule.held(status) is False and rule.reason_to_stop(status) is None
  status.wall_s = 160.0
  assert 'did not hold for 60 s (lowest since: 300)' in rule.reason_to_stop(status)
  assert (status.hold_evaluations, status.hold_lowest_return) == (3, 300.0)


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

  def target_staleness(self):
    return {'policy_target_staleness': 2.5}

  def failure(self):
    return None


class _Actor:
  def __init__(self, answers=True):
    self._answers = answers

  def weights_version(self):
    if not self._answers:
      raise ConnectionError('UNAVAILABLE: failed to connect')
    return 2

  def restarts(self):
    return 1

  def failure(self):
    return None


@pytest.fixture
def stops(monkeypatch):
  stopped = []
  monkeypatch.setattr(monitor_lib.lp, 'wait_for_stop', lambda timeout=None: False)
  monkeypatch.setattr(monitor_lib.lp, 'stop', lambda: stopped.append(True))
  return stopped


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


def test_learner_that_stopped_on_a_non_finite_loss_fails_the_run_with_its_message(tmp_path, stops):
  class _Learner(_DyingLearner):
    finished = False

    def failure(self):
      return 'learner stopped: learner step 4: non-finite total_loss=nan'

    def finish(self):
      self.finished = True
      return 3

  learner = _Learner(alive_calls=10**6)
  monitor = monitor_lib.MonitorNode(
      str(tmp_path), 'priority_table', monitor_lib.StoppingRule(max_learner_steps=1000), _Replay(),
      _Counter(), _VariableServer(), learner, None, [_Actor()], period_s=0)
  monitor.run()
  status = status_lib.read_status(str(tmp_path / 'status.json'))
  assert status.state == 'failed' and status.reason == learner.failure()
  # The learner saved what it could when it stopped; asking it to finish would wait for nothing.
  assert not learner.finished and status.learner_steps == 3 and stops == [True]


def test_actor_that_stopped_on_a_non_finite_timestep_fails_the_run_with_its_message(tmp_path, stops):
  class _StoppedActor(_Actor):
    def failure(self):
      return 'actor 1 stopped: environment 0 of 4 (python:envs:make) returned reward=nan at step 3'

  monitor = monitor_lib.MonitorNode(
      str(tmp_path), 'priority_table', monitor_lib.StoppingRule(max_learner_steps=1000), _Replay(),
      _Counter(), _VariableServer(), _DyingLearner(alive_calls=10**6), None,
      [_Actor(), _StoppedActor()], period_s=0)
  monitor.run()
  status = status_lib.read_status(str(tmp_path / 'status.json'))
  assert status.state == 'failed' and status.reason == _StoppedActor().failure()
  assert stops == [True]


class _Clock:
  """The monitor's time: every wait for a stop takes 10 s, so polls come at 10, 20, 30 s..."""

  def __init__(self):
    self.now = 1000.0

  def time(self):
    return self.now


class _CountingCounter(_Counter):
  """100 more environment steps at every call, so the curve has an x axis."""

  def __init__(self):
    super().__init__()
    self.env_steps = 0

  def get_counts(self):
    self.env_steps += 100
    return {'actor_steps': self.env_steps}


class _Learner(_DyingLearner):
  def __init__(self):
    super().__init__(alive_calls=10**6)
    self.finished = False

  def finish(self):
    self.finished = True
    return 3


class _ScriptedEvaluator:
  """One (learner step, return) or None per poll, the last one repeated once the script runs out."""

  def __init__(self, evaluations):
    self._evaluations = list(evaluations)

  def last_evaluation(self):
    return self._evaluations.pop(0) if len(self._evaluations) > 1 else self._evaluations[0]


@pytest.fixture
def ticking(monkeypatch):
  """Polls 10 s apart on a fake clock; returns the list that records program stops."""
  clock, stopped = _Clock(), []

  def wait_for_stop(timeout=None):
    del timeout
    clock.now += 10
    return False

  monkeypatch.setattr(monitor_lib, 'time', types.SimpleNamespace(time=clock.time))
  monkeypatch.setattr(monitor_lib.lp, 'wait_for_stop', wait_for_stop)
  monkeypatch.setattr(monitor_lib.lp, 'stop', lambda: stopped.append(True))
  return stopped


class _DiesAfter:
  """Answers like `node` for `alive_calls` calls of `method`, then raises at every call like a
  courier client whose server process is gone."""

  def __init__(self, node, method, alive_calls):
    self._node, self._method, self._calls = node, method, alive_calls

  def __getattr__(self, name):
    attribute = getattr(self._node, name)

    def call(*args, **kwargs):
      if name == self._method:
        self._calls -= 1
      if self._calls < 0:
        raise ConnectionError('UNAVAILABLE: failed to connect')
      return attribute(*args, **kwargs)
    return call


def test_dead_learner_fails_the_run_and_stops_the_program(tmp_path, ticking):
  counter = _Counter()
  monitor = monitor_lib.MonitorNode(
      str(tmp_path), 'priority_table', monitor_lib.StoppingRule(max_learner_steps=1000), _Replay(),
      counter, _VariableServer(), _DyingLearner(alive_calls=2), None, [_Actor()], period_s=10,
      dead_after_s=15)
  monitor.run()
  status = status_lib.read_status(str(tmp_path / 'status.json'))
  # Answers at 10 and 20 s; at 30 s silent for 10 s, at 40 s for 20 s > 15 s.
  assert status.state == 'failed' and status.wall_s == 40
  assert 'the learner stopped answering (nothing for 20 s' in status.reason
  assert status.learner_steps == 3 and status.env_steps == 100 and status.replay_size == 5
  assert status.weight_staleness == 1 and status.actor_restarts == 1
  assert ticking == [True] and counter.saved == 1


@pytest.mark.parametrize('service', ['replay', 'counter', 'variable server'])
def test_dead_service_fails_the_run_naming_it(tmp_path, ticking, service):
  saved_counter = counter = _Counter()
  replay, variable_server = _Replay(), _VariableServer()
  if service == 'replay':
    replay = _DiesAfter(replay, 'server_info', 2)
  elif service == 'counter':
    counter = _DiesAfter(saved_counter, 'get_counts', 2)
  else:
    variable_server = _DiesAfter(variable_server, 'version', 2)
  monitor = monitor_lib.MonitorNode(
      str(tmp_path), 'priority_table', monitor_lib.StoppingRule(max_learner_steps=1000), replay,
      counter, variable_server, _DyingLearner(alive_calls=10**6), None, [_Actor()], period_s=10)
  monitor.run()
  status = status_lib.read_status(str(tmp_path / 'status.json'))
  assert status.state == 'failed' and status.wall_s == 40
  assert status.reason.startswith(f'the {service} stopped answering')
  assert ticking == [True]
  # A dead counter is not asked to save (it was saved with the last learner and replay checkpoints).
  assert saved_counter.saved == (0 if service == 'counter' else 1)


def test_killed_actor_leaves_the_run_going_with_the_others(tmp_path, ticking):
  actors = [_Actor(), _DiesAfter(_Actor(), 'weights_version', 2), _Actor()]
  monitor = monitor_lib.MonitorNode(
      str(tmp_path), 'priority_table', monitor_lib.StoppingRule(max_seconds=100), _Replay(),
      _Counter(), _VariableServer(), _Learner(), None, actors, period_s=10)
  monitor.run()
  status = status_lib.read_status(str(tmp_path / 'status.json'))
  assert status.state == 'finished' and 'max_seconds=100' in status.reason
  assert (status.num_actors, status.actors_alive) == (3, 2)
  assert status.actor_restarts == 3  # The dead actor's restart still counts.
  assert 'actors 2/3 alive' in status_lib.progress_line(status)


def test_dead_reanalyzers_fail_the_run_since_the_learner_would_wait_for_them(tmp_path, ticking):
  reanalyzers = [_DiesAfter(_Actor(), 'weights_version', 1), _DiesAfter(_Actor(), 'weights_version', 3)]
  monitor = monitor_lib.MonitorNode(
      str(tmp_path), 'priority_table', monitor_lib.StoppingRule(max_seconds=1000), _Replay(),
      _Counter(), _VariableServer(), _DyingLearner(alive_calls=10**6), None, [_Actor()],
      period_s=10, silence_timeout_s=30, reanalyzers=reanalyzers)
  monitor.run()
  status = status_lib.read_status(str(tmp_path / 'status.json'))
  # The last answer comes at 30 s; at 70 s none has answered for 40 s > 30 s.
  assert status.state == 'failed' and status.wall_s == 70
  assert status.reason.startswith('no reanalyzer has answered for 30 s')
  assert (status.num_reanalyzers, status.reanalyzers_alive) == (2, 0)
  assert 'reanalyzers 0/2' in status_lib.progress_line(status)


# Polls at 10, 20, ... s: the target is first reached at 30 s (the repeat at 40 s is the same
# evaluation), then two evaluations follow at 50 and 60 s, the end of a 30 s window.
HOLDING = [None, (10, 300.0), (20, 480.0), (20, 480.0), (30, 490.0), (40, 476.0)]


def _run_monitor(run_dir, rule, evaluations):
  learner = _Learner()
  monitor = monitor_lib.MonitorNode(
      str(run_dir), 'priority_table', rule, _Replay(), _CountingCounter(), _VariableServer(),
      learner, _ScriptedEvaluator(evaluations), [_Actor()], period_s=10)
  monitor.run()
  return status_lib.read_status(str(run_dir / 'status.json')), learner


def test_target_that_holds_through_the_window(tmp_path, ticking):
  status, learner = _run_monitor(
      tmp_path, monitor_lib.StoppingRule(target_eval_return=475, hold_s=30, max_seconds=600), HOLDING)
  assert status.state == 'finished' and 'reached target 475 and held for 30 s' in status.reason
  assert (status.first_target_s, status.first_target_env_steps, status.first_target_learner_steps) == (30, 300, 20)
  assert status.held is True and status.wall_s == 60
  assert (status.hold_evaluations, status.hold_lowest_return) == (2, 476.0)
  assert (status.last_eval_learner_steps, status.last_eval_return) == (40, 476.0)
  assert learner.finished and ticking == [True]
  assert 'target reached at 30 s (300 env steps), held (2 evaluations since, lowest 476)' in (
      status_lib.target_summary(status))
  rows = curves.read_rows(monitor_lib.curve_csv_path(str(tmp_path)))
  assert [(row['env_steps'], row['learner_steps'], row['evaluation_return']) for row in rows] == [
      (200, 10, 300.0), (300, 20, 480.0), (500, 30, 490.0), (600, 40, 476.0)]


def test_target_that_falls_back_does_not_hold_and_the_run_goes_on_to_the_window_end(tmp_path, ticking):
  evaluations = HOLDING[:4] + [(30, 200.0), (40, 476.0)]
  status, _ = _run_monitor(
      tmp_path, monitor_lib.StoppingRule(target_eval_return=475, hold_s=30, max_seconds=600), evaluations)
  assert status.held is False and status.wall_s == 60
  assert 'did not hold for 30 s (lowest since: 200)' in status.reason
  assert 'did not hold (2 evaluations since, lowest 200)' in status_lib.target_summary(status)


def test_budget_within_the_window_leaves_it_incomplete(tmp_path, ticking):
  status, learner = _run_monitor(
      tmp_path, monitor_lib.StoppingRule(target_eval_return=475, hold_s=30, max_seconds=50), HOLDING)
  assert status.state == 'finished' and status.held is None and status.wall_s == 50
  assert 'reached max_seconds=50 within the 30 s hold window' in status.reason
  assert 'window incomplete' in status.reason
  assert status.first_target_s == 30 and status.hold_evaluations == 1
  assert 'hold window incomplete' in status_lib.target_summary(status)
  assert learner.finished and ticking == [True]


@pytest.mark.parametrize('replay_with_learner, named', [(True, 'learner'), (False, 'replay')])
def test_a_process_holding_replay_and_learner_dies_as_the_learner(tmp_path, ticking,
                                                                   replay_with_learner, named):
  # Replay and learner go silent at the same poll, as when the one process holding both dies
  # (`launch.node_common.ReplayWithLearner`); apart, the replay is named first (the learner also
  # stops when the replay is gone).
  monitor = monitor_lib.MonitorNode(
      str(tmp_path), 'priority_table', monitor_lib.StoppingRule(max_learner_steps=1000),
      _DiesAfter(_Replay(), 'server_info', 2), _Counter(), _VariableServer(),
      _DyingLearner(alive_calls=2), None, [_Actor()], period_s=10,
      replay_with_learner=replay_with_learner)
  monitor.run()
  status = status_lib.read_status(str(tmp_path / 'status.json'))
  assert status.state == 'failed'
  assert status.reason.startswith(f'the {named} stopped answering'), status.reason
