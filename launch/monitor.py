"""The monitor node: follows the program, writes status.json, applies the stopping rule.

It is the only node that decides to stop the program by itself: when a step or time budget is
reached (or the evaluation return has reached its target and the hold window after it is over)
it asks the learner to finish and save, saves the counter, and stops the program; when the
learner or every actor stops answering, or the learner or an actor reports that it stopped
(`failure()`: a non-finite loss, an environment's non-finite timestep), it records the failure
and stops the program instead of letting the others wait on the rate limiter forever. Every
evaluation it sees goes to the learning-curve CSV (`curve_csv_path`) with the environment steps
at that time, which the evaluator's own log does not know.
"""

import dataclasses
import os
import time
from typing import List, Optional, Sequence

import launchpad as lp
import reverb
from absl import logging
from acme.utils import loggers

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


class MonitorNode:
  """Writes `status.json` every `period_s` seconds and ends the run; see the module docstring."""

  def __init__(self, run_dir: str, table: str, stopping_rule: StoppingRule, replay: reverb.Client,
               counter, variable_server, learner, evaluator, actors: Sequence, period_s: float = 2.0,
               checkpoint_period_s: float = 60.0, startup_timeout_s: float = 300.0,
               silence_timeout_s: float = 60.0):
    self._path = os.path.join(run_dir, STATUS_FILE)
    self._table = table
    self._rule = stopping_rule
    self._replay = replay
    self._counter = counter
    self._variable_server = variable_server
    self._learner = learner
    self._evaluator = evaluator
    self._actors: List = list(actors)
    self._period_s = period_s
    self._checkpoint_period_s = checkpoint_period_s
    self._startup_timeout_s = startup_timeout_s
    self._silence_timeout_s = silence_timeout_s
    self._learner_seen = False
    self._actors_last_answer: Optional[float] = None
    self._actor_failure: Optional[str] = None
    # Flushed at every row: the launcher draws the curve from it when the program has stopped.
    self._curve = loggers.CSVLogger(run_dir, label=CURVE_LABEL, add_uid=False, flush_every=1)

  def _learner_steps(self, status: status_lib.Status) -> Optional[int]:
    """The learner's step, or None when it does not answer."""
    try:
      if status.resumed_from_step is None and not self._learner_seen:
        status.resumed_from_step = self._learner.resumed_from_step()
      steps = self._learner.learner_steps()
      self._learner_seen = True
      staleness = self._learner.target_staleness()
      status.policy_target_staleness = staleness.get('policy_target_staleness')
      status.reanalyzed_target_staleness = staleness.get('reanalyzed_target_staleness')
      return steps
    except Exception as error:  # pylint: disable=broad-except
      logging.warning('monitor: the learner did not answer: %r', error)
      return None

  def _learner_failure(self) -> Optional[str]:
    """Why the learner stopped by itself, or None (also when it does not answer: the next poll
    of its steps sees that)."""
    try:
      return self._learner.failure()
    except Exception as error:  # pylint: disable=broad-except
      logging.warning('monitor: the learner did not answer: %r', error)
      return None

  def _refresh(self, status: status_lib.Status, started: float, previous: status_lib.Status):
    now = time.time()
    status.wall_s = now - started
    counts = self._counter.get_counts()
    status.env_steps = int(counts.get('actor_steps', 0))
    status.reanalyzed_items = int(counts.get('reanalyzer_items', 0))
    status.replay_size = int(self._replay.server_info(timeout=10)[self._table].current_size)
    status.weights_version = int(self._variable_server.version())
    evaluation = self._evaluator.last_evaluation() if self._evaluator is not None else None
    if evaluation is not None:
      learner_steps, evaluation_return = int(evaluation[0]), float(evaluation[1])
      # The evaluator only keeps its latest evaluation: one is new when its figures change (a repeat
      # of both would not change the hold verdict either).
      if (learner_steps, evaluation_return) != (status.last_eval_learner_steps, status.last_eval_return):
        self._rule.record_evaluation(status, learner_steps, evaluation_return)
        self._curve.write({'wall_s': status.wall_s, 'env_steps': status.env_steps,
                           'learner_steps': learner_steps, 'evaluation_return': evaluation_return})
    status.held = self._rule.held(status)
    versions, restarts = [], 0
    for actor in self._actors:
      try:
        versions.append(actor.weights_version())
        restarts += actor.restarts()
        self._actor_failure = self._actor_failure or actor.failure()
      except Exception:  # pylint: disable=broad-except
        pass  # An actor starting up, or dead; the others still count.
    if versions:
      self._actors_last_answer = now
    status.actor_restarts = restarts
    status.weight_staleness = status.learner_steps - min(versions) if versions else None
    elapsed = max(status.wall_s - previous.wall_s, 1e-9)
    status.env_steps_per_s = (status.env_steps - previous.env_steps) / elapsed
    status.learner_steps_per_s = (status.learner_steps - previous.learner_steps) / elapsed

  def _end(self, status: status_lib.Status, state: str, reason: str, finish_learner: bool,
           save_counter: bool = True):
    if finish_learner:
      status.learner_steps = int(self._learner.finish())
    if save_counter:
      self._counter.save_to_disk()
    status.state, status.reason = state, reason
    status_lib.write_status(self._path, status)
    logging.info('monitor: run %s: %s', state, reason)

  def _silent_nodes(self, started: float) -> Optional[str]:
    """Why the run cannot go on (a node group stopped answering), or None."""
    now = time.time()
    if not self._actors:
      return None
    if self._actors_last_answer is None:
      if now - started > self._startup_timeout_s:
        return f'no actor answered within {self._startup_timeout_s:g} s of the start'
    elif now - self._actors_last_answer > self._silence_timeout_s:
      return f'no actor has answered for {self._silence_timeout_s:g} s (their processes died or hang)'
    return None

  def run(self):
    try:
      self._follow()
    finally:
      self._curve.close()

  def _follow(self):
    started = time.time()
    status = status_lib.Status()
    previous = dataclasses.replace(status)
    last_checkpoint = started
    status_lib.write_status(self._path, status)
    while not lp.wait_for_stop(self._period_s):
      steps = self._learner_steps(status)
      if steps is None:
        waited = time.time() - started
        if self._learner_seen or waited > self._startup_timeout_s:
          self._end(status, 'failed', 'the learner stopped answering (its process died or hangs); '
                    f'see its log under {os.path.dirname(self._path)}/logs', finish_learner=False)
          lp.stop()
          return
        continue
      status.learner_steps = steps
      self._refresh(status, started, previous)
      previous = dataclasses.replace(status)
      status_lib.write_status(self._path, status)
      failure = self._learner_failure() or self._actor_failure
      if failure is not None:
        # A stopped learner has saved what it could; with a stopped actor, the learner may wait on
        # the rate limiter, so it is not asked to finish (it saves at the stop).
        self._end(status, 'failed', failure, finish_learner=False)
        lp.stop()
        return
      if time.time() - last_checkpoint > self._checkpoint_period_s:
        self._counter.save_to_disk()
        self._replay.checkpoint()
        last_checkpoint = time.time()
      failure = self._silent_nodes(started)
      if failure is not None:
        # The learner may wait on the rate limiter for data that will not come: do not wait on it.
        self._end(status, 'failed', f'{failure}; see the logs under {os.path.dirname(self._path)}/logs',
                  finish_learner=False)
        lp.stop()
        return
      reason = self._rule.reason_to_stop(status)
      if reason is not None:
        self._end(status, 'finished', reason, finish_learner=True)
        lp.stop()
        return
    # The counter saves itself at the stop; its server may already be gone.
    self._end(status, 'finished', 'stopped by a signal (Ctrl-C or SIGTERM); checkpoints saved',
              finish_learner=False, save_counter=False)
