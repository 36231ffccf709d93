"""The learner node: steps, publishes weights, checkpoints itself and the counter."""

import os
import threading
import time
from typing import Dict, Optional

import launchpad as lp
import reverb
import tensorflow as tf
from absl import logging
from acme import specs

from agents.muzero import builder as builder_lib
from agents.muzero import config as config_lib
from agents.muzero import learning
from agents.muzero import loggers as loggers_lib
from launch.node_common import exit_if_own_process, limit_threads


PUBLISHED_GROUPS = ('network', learning.LEARNER_STEPS, learning.MAX_PRIORITY)


def learner_checkpoint_step(run_dir: str) -> Optional[int]:
  """The learner step of the checkpoint a resumed learner of `run_dir` starts from (the newest
  the directory's index names, see `MuZeroLearner.restore_checkpoint`); None before the first."""
  state = tf.train.get_checkpoint_state(os.path.join(run_dir, 'learner'))
  if state is None:
    return None
  return int(state.model_checkpoint_path.rsplit('-', 1)[1])


class LearnerNode:
  """Steps the learner, publishes weights every `publish_period` steps, checkpoints itself and
  then the counter every `checkpoint_period_s` seconds.

  On resume the counter's learner_steps is set to the step the learner restored: after a hard
  kill the counter may have been saved later (at the stop, or with the replay) or earlier (its
  learner counts arrive up to a second late) than the learner's checkpoint, and the learner's
  logs count their steps from it.

  `finish()` asks it to stop after the current step and save; the program's monitor calls it
  before stopping the program so that the last checkpoint matches the counter's. A stop signal
  ends it the same way, after its current step.

  A non-finite loss (`learning.NonFiniteError`: the learner did not apply that update) stops the
  stepping for good: the node logs the message, saves the weights only if they are finite (else
  the last checkpoint stays) and keeps answering until the program stops, so that the monitor
  reads the message from `failure()` and ends the run as failed. Retrying would only meet the
  same divergence or the same bad data again.
  """

  def __init__(self, config: config_lib.MuZeroConfig, environment_spec: specs.EnvironmentSpec,
               replay: reverb.Client, variable_server, counter, run_dir: str, resume: bool,
               publish_period: int, checkpoint_period_s: float,
               num_threads: Optional[int] = None):
    if num_threads is not None:
      limit_threads(num_threads)
    builder = builder_lib.MuZeroBuilder(config, environment_spec)
    self._learner = builder.make_learner(
        builder.make_network(), builder.make_dataset_iterator(replay.server_address),
        replay_client=replay, counter=counter,
        logger=loggers_lib.make_logger('learner', run_dir, steps_key=learning.LEARNER_STEPS,
                                       time_delta=10.0),
        checkpoint_directory=os.path.join(run_dir, 'learner'),
        reanalyzed_dataset=builder.make_reanalyzed_dataset(replay.server_address))
    self._resumed_from_step = None
    if resume and self._learner.restore_checkpoint():
      self._resumed_from_step = self._learner.learner_steps
    self._variable_server = variable_server
    self._counter = counter
    self._resume = resume
    self._publish_period = publish_period
    self._checkpoint_period_s = checkpoint_period_s
    self._finish = threading.Event()
    self._finished = threading.Event()
    self._failure: Optional[str] = None

  def _publish(self):
    groups = self._learner.get_variables(PUBLISHED_GROUPS)
    self._variable_server.publish(self._learner.learner_steps, dict(zip(PUBLISHED_GROUPS, groups)))

  def _align_counter(self, timeout_s: float = 120.0) -> None:
    """Sets the counter's learner_steps to this learner's step (the counter may still start)."""
    deadline = time.time() + timeout_s
    while True:
      try:
        counted = self._counter.get_counts().get(learning.LEARNER_STEPS, 0)
        if counted != self._learner.learner_steps:
          self._counter.increment(**{learning.LEARNER_STEPS: self._learner.learner_steps - counted})
          logging.info('learner: counter learner_steps %d set to the restored step %d.', counted,
                       self._learner.learner_steps)
        return
      except Exception as error:  # pylint: disable=broad-except
        if time.time() > deadline:
          logging.warning('learner: could not align the counter with step %d: %r',
                          self._learner.learner_steps, error)
          return
        time.sleep(1.0)

  def _checkpoint(self) -> None:
    """Saves the learner, then the counter (its learner_steps may trail by up to a second of
    steps, which the next resume corrects; its environment steps are those of this time)."""
    self._learner.save_checkpoint()
    try:
      self._counter.save_to_disk()
    except Exception as error:  # pylint: disable=broad-except
      logging.warning('learner: the counter was not saved with checkpoint %d: %r',
                      self._learner.learner_steps, error)

  def run(self):
    if self._resume:
      self._align_counter()
    self._publish()
    last_checkpoint = time.time()
    try:
      while not self._finish.is_set() and not lp.wait_for_stop(0):
        try:
          self._learner.step()
          if self._learner.learner_steps % self._publish_period == 0:
            self._publish()
          if time.time() - last_checkpoint > self._checkpoint_period_s:
            self._checkpoint()
            last_checkpoint = time.time()
        except learning.NonFiniteError as error:
          self._failure = f'learner stopped: {error}'
          logging.error('%s', self._failure)
          break
    finally:
      self._save_final_checkpoint()
      self._finished.set()
    if self._failure is not None:
      lp.wait_for_stop()  # The monitor reads `failure()`, then stops the program.
    else:
      # Let the monitor's `finish` call return before the process goes.
      lp.wait_for_stop(5.0)
    exit_if_own_process()

  def _save_final_checkpoint(self):
    """Saves unless the weights are non-finite: then the last good checkpoint stays."""
    try:
      self._learner.save_checkpoint()
    except learning.NonFiniteError as error:
      logging.error('learner: %s', error)

  def finish(self, timeout_s: float = 120.0) -> int:
    """Stops stepping, saves a checkpoint; returns the final learner step."""
    self._finish.set()
    if not self._finished.wait(timeout_s):
      raise TimeoutError(f'the learner did not finish its step within {timeout_s} s.')
    return self._learner.learner_steps

  def learner_steps(self) -> int:
    return self._learner.learner_steps

  def failure(self) -> Optional[str]:
    """Why the learner stopped stepping by itself (a non-finite loss), or None."""
    return self._failure

  def resumed_from_step(self) -> Optional[int]:
    return self._resumed_from_step

  def target_staleness(self) -> Dict[str, float]:
    """The latest step's age of its policy targets (`MuZeroLearner.last_staleness`)."""
    return dict(self._learner.last_staleness)
