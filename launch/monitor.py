"""The monitor node: follows the program, writes status.json, applies the stopping rule.

It is the only node that decides to stop the program by itself: when a step or time budget is
reached (or the evaluation return has reached its target and the hold window after it is over)
it asks the learner to finish and save, saves the counter, and stops the program; when the
learner, replay, counter or variable server, or every actor or every reanalyzer, stops
answering (`WatchedNode`), or the learner or an actor reports that it stopped (`failure()`: a
non-finite loss, an environment's non-finite timestep), it records the failure naming the node
and stops the program instead of letting the others wait on the rate limiter forever. Every
evaluation it sees goes to the learning-curve CSV (`curve_csv_path`) with the environment steps
at that time, which the evaluator's own log does not know.
"""

import dataclasses
import os
import time
from typing import Optional, Sequence

import launchpad as lp
import reverb
from absl import logging
from acme.utils import loggers

from launch import replay_node
from launch import status as status_lib

STATUS_FILE = 'status.json'
# Acme CSVLogger label of the learning curve: RUN_DIR/logs/learning_curve/logs.csv.
CURVE_LABEL = 'learning_curve'


def curve_csv_path(run_dir: str) -> str:
  """Where the monitor logs each evaluation: wall_s, env_steps, learner_steps, evaluation_return."""
  return os.path.join(run_dir, 'logs', CURVE_LABEL, 'logs.csv')


@dataclasses.dataclass(frozen=True)
class StoppingRule:
  """When a run ends by itself; None disables a criterion.

  Reaching `target_eval_return` ends the run `hold_s` seconds later (0: at once), so that the run
  shows whether the return stays there: every evaluation seen after the first one at the target
  is in the hold window, and `held` gives the verdict. A budget reached within the window still
  ends the run; `held` is then False if an evaluation had already fallen below the target, and
  None otherwise (window incomplete).
  """
  max_learner_steps: Optional[int] = None
  max_env_steps: Optional[int] = None
  max_seconds: Optional[float] = None
  target_eval_return: Optional[float] = None
  hold_s: float = 0.0

  def record_evaluation(self, status: status_lib.Status, learner_steps: int,
                        evaluation_return: float) -> None:
    """Enters a new evaluation in `status`, whose `wall_s` and `env_steps` are those it was seen at."""
    status.last_eval_learner_steps, status.last_eval_return = learner_steps, evaluation_return
    if self.target_eval_return is None:
      return
    if status.first_target_s is None:
      if evaluation_return >= self.target_eval_return:
        status.first_target_s = status.wall_s
        status.first_target_env_steps = status.env_steps
        status.first_target_learner_steps = learner_steps
      return
    status.hold_evaluations += 1
    if status.hold_lowest_return is None or evaluation_return < status.hold_lowest_return:
      status.hold_lowest_return = evaluation_return

  def held(self, status: status_lib.Status) -> Optional[bool]:
    """Whether every evaluation of the hold window stayed at the target: False from the first one
    below it, True once the window is over without one, None before (or if never reached)."""
    if status.first_target_s is None:
      return None
    if status.hold_lowest_return is not None and status.hold_lowest_return < self.target_eval_return:
      return False
    return True if self._hold_window_over(status) else None

  def _hold_window_over(self, status: status_lib.Status) -> bool:
    return status.first_target_s is not None and status.wall_s - status.first_target_s >= self.hold_s

  def reason_to_stop(self, status: status_lib.Status) -> Optional[str]:
    held = self.held(status)
    if self._hold_window_over(status):
      if self.hold_s == 0:
        return f'evaluation return {status.last_eval_return:g} >= target {self.target_eval_return:g}'
      if held:
        return f'evaluation return reached target {self.target_eval_return:g} and held for {self.hold_s:g} s'
      return (f'evaluation return reached target {self.target_eval_return:g} but did not hold for '
              f'{self.hold_s:g} s (lowest since: {status.hold_lowest_return:g})')
    budget = self._budget_reached(status)
    if budget is None or status.first_target_s is None:
      return budget
    window = f'{budget} within the {self.hold_s:g} s hold window after reaching target {self.target_eval_return:g}'
    if held is False:
      return f'{window} (did not hold: lowest since {status.hold_lowest_return:g})'
    return f'{window} (window incomplete: held unknown)'

  def _budget_reached(self, status: status_lib.Status) -> Optional[str]:
    if self.max_learner_steps is not None and status.learner_steps >= self.max_learner_steps:
      return f'reached max_learner_steps={self.max_learner_steps}'
    if self.max_env_steps is not None and status.env_steps >= self.max_env_steps:
      return f'reached max_env_steps={self.max_env_steps}'
    if self.max_seconds is not None and status.wall_s >= self.max_seconds:
      return f'reached max_seconds={self.max_seconds:g}'
    return None


# What `WatchedNode.ask` returns when the node did not answer.
NO_ANSWER = object()


class WatchedNode:
  """A node the monitor asks something at every poll, and when it last answered.

  Calls go through handles that fail at once when the node's process is gone
  (`launch.program.fail_fast_handle`), so a dead node costs a poll nothing; a node is counted
  dead once it has not answered for `dead_after_s` seconds, or, if it never answered, for the
  start-up timeout (nodes take a while to build their networks).
  """

  def __init__(self, name: str, handle):
    self.name = name
    self.handle = handle
    self.last_answer: Optional[float] = None
    self._answering = True

  def ask(self, method: str, *args, **kwargs):
    """The node's answer to `method(*args, **kwargs)`, or NO_ANSWER (logged when it begins)."""
    try:
      answer = getattr(self.handle, method)(*args, **kwargs)
    except Exception as error:  # pylint: disable=broad-except
      if self._answering:
        logging.warning('monitor: the %s did not answer %s(): %r', self.name, method, error)
      self._answering = False
      return NO_ANSWER
    self.last_answer = time.time()
    self._answering = True
    return answer

  def alive(self, now: float, dead_after_s: float) -> bool:
    return self.last_answer is not None and now - self.last_answer <= dead_after_s

  def death(self, now: float, started: float, dead_after_s: float,
            startup_timeout_s: float) -> Optional[str]:
    """Why this node counts as dead, or None while it answers (or may still be starting)."""
    if self.last_answer is None:
      if now - started > startup_timeout_s:
        return f'the {self.name} did not answer within {startup_timeout_s:g} s of the start'
      return None
    if now - self.last_answer > dead_after_s:
      return (f'the {self.name} stopped answering (nothing for {now - self.last_answer:.0f} s: '
              'its process died or hangs)')
    return None


class MonitorNode:
  """Writes `status.json` every `period_s` seconds and ends the run; see the module docstring.

  Node watching: the learner, replay, counter and variable server are needed by every other
  node, so the run fails (naming the node) once one of them has not answered for
  `dead_after_s` seconds. Actors and reanalyzers come in groups: status.json counts those alive,
  and the run goes on with the others; it fails once none of a group has answered for
  `silence_timeout_s` (with no reanalyzer the learner would wait for reanalysed items forever).
  Every `replay_checkpoint_period_s` it saves the counter and checkpoints the replay (the learner
  checkpoints itself, see `launch.learner_node.LearnerNode`). With `replay_with_learner` (one
  process holds both) a death of that process is reported as the learner's.
  """

  def __init__(self, run_dir: str, table: str, stopping_rule: StoppingRule, replay: reverb.Client,
               counter, variable_server, learner, evaluator, actors: Sequence,
               period_s: float = 2.0, replay_checkpoint_period_s: float = 300.0,
               startup_timeout_s: float = 300.0, silence_timeout_s: float = 60.0,
               dead_after_s: float = 10.0, reanalyzers: Sequence = (),
               replay_with_learner: bool = False):
    self._run_dir = run_dir
    self._path = os.path.join(run_dir, STATUS_FILE)
    self._table = table
    self._rule = stopping_rule
    self._replay = WatchedNode('replay', replay)
    self._counter = WatchedNode('counter', counter)
    self._variable_server = WatchedNode('variable server', variable_server)
    self._learner = WatchedNode('learner', learner)
    # The replay and the learner fall together when they share a process; the learner is named.
    self._services = ((self._counter, self._variable_server, self._learner, self._replay)
                      if replay_with_learner else
                      (self._replay, self._counter, self._variable_server, self._learner))
    self._evaluator = None if evaluator is None else WatchedNode('evaluator', evaluator)
    self._actors = [WatchedNode(f'actor {index}', actor) for index, actor in enumerate(actors)]
    self._actor_restarts = [0] * len(self._actors)
    self._reanalyzers = [WatchedNode(f'reanalyzer {index}', reanalyzer)
                         for index, reanalyzer in enumerate(reanalyzers)]
    self._period_s = period_s
    self._replay_checkpoint_period_s = replay_checkpoint_period_s
    self._startup_timeout_s = startup_timeout_s
    self._silence_timeout_s = silence_timeout_s
    self._dead_after_s = dead_after_s
    self._node_failure: Optional[str] = None
    # Flushed at every row: the launcher draws the curve from it when the program has stopped.
    self._curve = loggers.CSVLogger(run_dir, label=CURVE_LABEL, add_uid=False, flush_every=1)

  def _read_learner(self, status: status_lib.Status) -> None:
    learner = self._learner
    if learner.last_answer is None:
      resumed_from_step = learner.ask('resumed_from_step')
      if resumed_from_step is NO_ANSWER:
        return
      status.resumed_from_step = resumed_from_step
    steps = learner.ask('learner_steps')
    if steps is NO_ANSWER:
      return
    status.learner_steps = int(steps)
    staleness = learner.ask('target_staleness')
    if staleness is not NO_ANSWER:
      status.policy_target_staleness = staleness.get('policy_target_staleness')
      status.reanalyzed_target_staleness = staleness.get('reanalyzed_target_staleness')
    failure = learner.ask('failure')
    if failure not in (None, NO_ANSWER):
      self._node_failure = self._node_failure or failure

  def _read_services(self, status: status_lib.Status) -> None:
    counts = self._counter.ask('get_counts')
    if counts is not NO_ANSWER:
      status.env_steps = int(counts.get('actor_steps', 0))
      status.reanalyzed_items = int(counts.get('reanalyzer_items', 0))
    tables = self._replay.ask('server_info', timeout=5)
    if tables is not NO_ANSWER:
      status.replay_size = int(tables[self._table].current_size)
    version = self._variable_server.ask('version')
    if version is not NO_ANSWER:
      status.weights_version = int(version)

  def _read_evaluation(self, status: status_lib.Status) -> None:
    if self._evaluator is None:
      return
    # Without an evaluator the run goes on; only a target return would wait for it.
    evaluation = self._evaluator.ask('last_evaluation')
    if evaluation not in (None, NO_ANSWER):
      learner_steps, evaluation_return = int(evaluation[0]), float(evaluation[1])
      # The evaluator only keeps its latest evaluation: one is new when its figures change (a repeat
      # of both would not change the hold verdict either).
      if (learner_steps, evaluation_return) != (status.last_eval_learner_steps, status.last_eval_return):
        self._rule.record_evaluation(status, learner_steps, evaluation_return)
        self._curve.write({'wall_s': status.wall_s, 'env_steps': status.env_steps,
                           'learner_steps': learner_steps, 'evaluation_return': evaluation_return})

  def _read_actors(self, status: status_lib.Status, now: float) -> None:
    versions = []
    for index, actor in enumerate(self._actors):
      version = actor.ask('weights_version')
      if version is NO_ANSWER:
        continue  # An actor starting up, or dead; the others still count.
      versions.append(version)
      restarts = actor.ask('restarts')
      if restarts is not NO_ANSWER:
        self._actor_restarts[index] = restarts  # A dead actor's restarts still count.
      failure = actor.ask('failure')
      if failure not in (None, NO_ANSWER):
        self._node_failure = self._node_failure or failure
    status.actor_restarts = sum(self._actor_restarts)
    status.weight_staleness = status.learner_steps - min(versions) if versions else None
    status.num_actors = len(self._actors)
    status.actors_alive = sum(actor.alive(now, self._dead_after_s) for actor in self._actors)
    for reanalyzer in self._reanalyzers:
      reanalyzer.ask('weights_version')
    status.num_reanalyzers = len(self._reanalyzers)
    status.reanalyzers_alive = sum(reanalyzer.alive(now, self._dead_after_s)
                                   for reanalyzer in self._reanalyzers)

  def _refresh(self, status: status_lib.Status, started: float, previous: status_lib.Status):
    now = time.time()
    status.wall_s = now - started
    self._read_learner(status)
    self._read_services(status)
    self._read_evaluation(status)
    status.held = self._rule.held(status)
    self._read_actors(status, now)
    elapsed = max(status.wall_s - previous.wall_s, 1e-9)
    status.env_steps_per_s = (status.env_steps - previous.env_steps) / elapsed
    status.learner_steps_per_s = (status.learner_steps - previous.learner_steps) / elapsed

  def _end(self, status: status_lib.Status, state: str, reason: str, finish_learner: bool,
           save_counter: bool = True):
    if finish_learner:
      status.learner_steps = int(self._learner.handle.finish())
    if save_counter and self._counter.ask('save_to_disk') is NO_ANSWER:
      reason += '; the counter could not be saved'
    status.state, status.reason = state, reason
    status_lib.write_status(self._path, status)
    logging.info('monitor: run %s: %s', state, reason)

  def _dead_node(self, started: float) -> Optional[str]:
    """Why the run cannot go on (a node it needs, or a whole node group, stopped answering)."""
    now = time.time()
    # The services first: the learner also stops when one of them is gone.
    for node in self._services:
      death = node.death(now, started, self._dead_after_s, self._startup_timeout_s)
      if death is not None:
        return death
    for group, watched in (('actor', self._actors), ('reanalyzer', self._reanalyzers)):
      if not watched:
        continue
      answers = [node.last_answer for node in watched if node.last_answer is not None]
      if not answers:
        if now - started > self._startup_timeout_s:
          return f'no {group} answered within {self._startup_timeout_s:g} s of the start'
      elif now - max(answers) > self._silence_timeout_s:
        return (f'no {group} has answered for {self._silence_timeout_s:g} s (their processes died '
                'or hang)')
    return None

  def _checkpoint_replay(self) -> None:
    """Saves the counter, then checkpoints the replay (the counts of the items it holds)."""
    self._counter.ask('save_to_disk')
    path = self._replay.ask('checkpoint')
    if path is not NO_ANSWER:
      replay_node.keep_replay_checkpoint(self._run_dir, path)
      logging.info('monitor: replay checkpointed to %s', path)

  def run(self):
    try:
      self._follow()
    finally:
      self._curve.close()

  def _follow(self):
    started = time.time()
    status = status_lib.Status(num_actors=len(self._actors), num_reanalyzers=len(self._reanalyzers))
    previous = dataclasses.replace(status)
    last_checkpoint = started
    status_lib.write_status(self._path, status)
    while not lp.wait_for_stop(self._period_s):
      self._refresh(status, started, previous)
      previous = dataclasses.replace(status)
      status_lib.write_status(self._path, status)
      if self._node_failure is not None:
        # A stopped learner has saved what it could; with a stopped actor, the learner may wait on
        # the rate limiter, so it is not asked to finish (it saves at the stop).
        self._end(status, 'failed', self._node_failure, finish_learner=False)
        lp.stop()
        return
      failure = self._dead_node(started)
      if failure is not None:
        # The learner may wait on the rate limiter for data that will not come: do not wait on it.
        self._end(status, 'failed', f'{failure}; see the logs under {os.path.dirname(self._path)}/logs',
                  finish_learner=False, save_counter=self._counter.alive(time.time(), self._dead_after_s))
        lp.stop()
        return
      if time.time() - last_checkpoint > self._replay_checkpoint_period_s:
        self._checkpoint_replay()
        last_checkpoint = time.time()
      reason = self._rule.reason_to_stop(status)
      if reason is not None:
        self._end(status, 'finished', reason, finish_learner=True)
        lp.stop()
        return
    # The counter saves itself at the stop; its server may already be gone.
    self._end(status, 'finished', 'stopped by a signal (Ctrl-C or SIGTERM); checkpoints saved',
              finish_learner=False, save_counter=False)
