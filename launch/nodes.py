"""The workers of the distributed program, one class per node kind (see `launch.program`).

Each is built inside its own node (process or thread) from picklable arguments: the agent
config, the environment spec, an environment factory and handles of the other nodes.
"""

import json
import os
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import dm_env
import launchpad as lp
import numpy as np
import reverb
import tensorflow as tf
from absl import logging
from acme import specs
from acme.utils import counting

from agents.muzero import actor as actor_lib
from agents.muzero import arena
from agents.muzero import builder as builder_lib
from agents.muzero import config as config_lib
from agents.muzero import learning
from agents.muzero import loggers as loggers_lib
from environments import opponents
from environments import wrapper
from launch import pinned_stack
from launch import status as status_lib

EnvironmentFactory = Callable[[int], dm_env.Environment]
PUBLISHED_GROUPS = ('network', learning.LEARNER_STEPS, learning.MAX_PRIORITY)
COUNTER_FILE = 'counter.json'
REPLAY_RESTORED_FILE = 'replay_restored.json'
REPLAY_CHECKPOINT_FILE = 'replay_checkpoint.json'
# The file Reverb writes last into a checkpoint directory, once the checkpoint is complete.
REVERB_DONE_FILE = 'DONE'


def limit_threads(num_threads: int) -> None:
  """Caps TensorFlow's thread pools of this process; a no-op once TensorFlow has started."""
  try:
    tf.config.threading.set_intra_op_parallelism_threads(num_threads)
    tf.config.threading.set_inter_op_parallelism_threads(num_threads)
  except RuntimeError:
    pass  # Threaded launches share one TensorFlow runtime, already started.


def exit_if_own_process() -> None:
  """Ends this node's process at once when the node has one of its own (local_mp, vertex_ai).

  Called when a node's work is done and saved; teardown could block on the node's Reverb
  readers and writers (`launch.pinned_stack.exit_without_teardown`). Threaded launches share one
  process, which the launcher ends the same way once everything is saved.
  """
  if lp.context.get_context().launch_type in (lp.LaunchType.LOCAL_MULTI_PROCESSING,
                                               lp.LaunchType.TEST_MULTI_PROCESSING,
                                               lp.LaunchType.VERTEX_AI):
    pinned_stack.exit_without_teardown(0)


def actor_environment_seeds(seed: int, restarts: int, count: int) -> List[int]:
  """Seeds of an actor's `count` environments after `restarts` restarts (the first also seeds its
  search): each restart takes seeds no earlier environment had, so it does not replay the same
  episodes."""
  base = seed + 10_000 * restarts
  return [base + index for index in range(count)]


def replay_checkpoints(directory: str) -> Tuple[Optional[str], List[str]]:
  """(the checkpoint Reverb restores from `directory`, the newer ones it skips as partial).

  Reverb 0.7 writes each checkpoint to a new directory named by the time, adds a DONE file once
  everything is written, then deletes the older ones; at start it loads the newest directory
  with a DONE file. A kill while writing therefore leaves the previous checkpoint in place and a
  newer directory without DONE, which is skipped (and deleted by the next checkpoint).
  """
  if not os.path.isdir(directory):
    return None, []
  partial = []
  for name in sorted(os.listdir(directory), reverse=True):
    path = os.path.join(directory, name)
    if os.path.exists(os.path.join(path, REVERB_DONE_FILE)):
      return path, partial
    partial.append(path)
  return None, partial


def learner_checkpoint_step(run_dir: str) -> Optional[int]:
  """The learner step of the checkpoint a resumed learner of `run_dir` starts from (the newest
  the directory's index names, see `MuZeroLearner.restore_checkpoint`); None before the first."""
  state = tf.train.get_checkpoint_state(os.path.join(run_dir, 'learner'))
  if state is None:
    return None
  return int(state.model_checkpoint_path.rsplit('-', 1)[1])


def saved_counts(run_dir: str) -> Dict[str, float]:
  """The counts in `run_dir`'s counter.json, which a resumed counter starts from."""
  with open(os.path.join(run_dir, COUNTER_FILE)) as file:
    saved = json.load(file)
  counts = dict(saved['cache'])
  for key, value in saved['counts'].items():
    counts[key] = counts.get(key, 0) + value
  return counts


class ReplayNode(lp.ReverbNode):
  """A Reverb node that restores from and checkpoints to the run directory.

  At start it records the restored table size (`replay_restored.json`); at stop it checkpoints
  and records the checkpointed size (`replay_checkpoint.json`), so a resumed run can show it
  lost nothing. Then, before shutting the server down, it samples for up to `drain_s` seconds:
  once the learner has stopped sampling, actors wait on the `SampleToInsertRatio` limiter inside
  their inserts, and Reverb's shutdown waits for those inserts (reanalyzers likewise on the
  reanalyze table's); the samples let them finish and see the stop.
  """

  def __init__(self, tables_fn, run_dir: str, table: str, drain_s: float = 3.0):
    super().__init__(tables_fn)
    self._tables_fn = tables_fn
    self._run_dir = run_dir
    self._table = table
    self._drain_s = drain_s

  def run(self):
    directory = os.path.join(self._run_dir, 'replay')
    restored, partial = replay_checkpoints(directory)
    for path in partial:
      logging.warning('replay: ignoring %s, a checkpoint whose writing was interrupted (no %s '
                      'file); restoring %s instead.', path, REVERB_DONE_FILE, restored or 'nothing')
    # Held by the node, not a local: `reverb.Server.__del__` calls `stop()`, which would block when
    # `run` returns under threaded launches (see below).
    self._replay_server = reverb.Server(
        tables=self._tables_fn(),
        port=lp.get_port_from_address(self.reverb_address.resolve()),
        checkpointer=reverb.checkpointers.DefaultCheckpointer(directory))
    client = self._replay_server.localhost_client()
    status_lib.write_json_atomically(os.path.join(self._run_dir, REPLAY_RESTORED_FILE), {
        'size': int(client.server_info()[self._table].current_size), 'path': restored,
        'ignored_partial': partial})
    lp.wait_for_stop()
    size, path = self._checkpoint(client)
    status_lib.write_json_atomically(os.path.join(self._run_dir, REPLAY_CHECKPOINT_FILE), {'size': size, 'path': path})
    logging.info('replay: checkpointed %d items to %s', size, path)
    self._drain(client.server_address, sorted(client.server_info()))
    # No `self._replay_server.stop()`: it waits for every open stream, the learner's prefetching
    # readers included, which wait on the rate limiter forever.
    exit_if_own_process()

  def _checkpoint(self, client: reverb.Client, attempts: int = 20) -> Tuple[int, str]:
    """Checkpoints; returns (size, path) once no insert landed while it was written.

    Actors may still be finishing their last inserts when the stop arrives; a size read on
    either side of an unchanged table is the size of the checkpoint.
    """
    for _ in range(attempts):
      before = int(client.server_info()[self._table].current_size)
      path = client.checkpoint()
      after = int(client.server_info()[self._table].current_size)
      if before == after:
        return after, path
      time.sleep(0.2)
    raise RuntimeError(f'the replay table kept changing during {attempts} checkpoints at stop.')

  def _drain(self, address: str, tables: Sequence[str]):
    """Samples every table in turn until the deadline (writers of each may wait on its limiter)."""
    deadline = time.time() + self._drain_s
    while time.time() < deadline:
      for table in tables:
        dataset = reverb.TrajectoryDataset.from_table_signature(
            address, table, max_in_flight_samples_per_worker=1, rate_limiter_timeout_ms=100)
        try:
          for _ in dataset.take(16):
            if time.time() >= deadline:
              return
        except tf.errors.OpError:
          pass  # Empty or rate limited: try again until the deadline.


class CounterNode(counting.Counter):
  """Acme's counter, saved to and restored from `counter.json` in the run directory."""

  def __init__(self, run_dir: str):
    super().__init__()
    self._path = os.path.join(run_dir, COUNTER_FILE)
    if os.path.exists(self._path):
      with open(self._path) as file:
        self.restore(json.load(file))

  def save_to_disk(self) -> None:
    status_lib.write_json_atomically(self._path, self.save())

  def run(self):
    lp.wait_for_stop()
    self.save_to_disk()


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


class EnvironmentFault(RuntimeError):
  """An environment raised; its actor restarts its environments instead of dying."""


class _FaultTaggingEnvironment(wrapper.EnvironmentWrapper):
  """Re-raises whatever the wrapped environment raises as `EnvironmentFault`.

  So that an actor restarts on environment failures only: an error of the agent's own code is a
  bug that must stop the node, not be retried forever.
  """

  def reset(self) -> dm_env.TimeStep:
    try:
      return self._environment.reset()
    except Exception as error:  # pylint: disable=broad-except
      raise EnvironmentFault(f'environment reset raised {error!r}') from error

  def step(self, action) -> dm_env.TimeStep:
    try:
      return self._environment.step(action)
    except Exception as error:  # pylint: disable=broad-except
      raise EnvironmentFault(f'environment step raised {error!r}') from error


class ActorNode:
  """B environments stepped in lock-step by one batched-search actor, writing to the replay.

  If an environment raises (`EnvironmentFault`), the actor's environments, adders and loop are made anew and acting
  goes on: the partial episodes in flight are dropped (their items not yet written are lost;
  items already written hold complete steps and stay), and the restart is counted.

  If an environment returns a NaN or infinite observation, reward or discount
  (`actor_lib.NonFiniteTimestepError`, raised before the timestep reaches the replay), the actor
  stops acting: a restart would meet the same environment code again. It keeps answering, with
  the message in `failure()`, until the monitor ends the run as failed.
  """

  def __init__(self, actor_id: int, config: config_lib.MuZeroConfig,
               environment_spec: specs.EnvironmentSpec, environment_factory: EnvironmentFactory,
               replay: reverb.Client, variable_server, counter, run_dir: str, seed: int,
               num_threads: int = 1):
    limit_threads(num_threads)
    self._actor_id = actor_id
    self._builder = builder_lib.MuZeroBuilder(config, environment_spec)
    self._network = self._builder.make_network()
    self._environment_factory = environment_factory
    self._replay = replay
    self._variable_server = variable_server
    self._counter = counting.Counter(counter, 'actor')
    self._logger = loggers_lib.make_logger(f'actor_{actor_id}', run_dir, time_delta=30.0, print_fn=None)
    self._seed = seed
    self._restarts = 0
    self._failure: Optional[str] = None
    self._environment_name = getattr(environment_factory, 'environment_id', None)
    self._actor = None
    self._loop = self._make_loop()

  def _make_loop(self) -> actor_lib.BatchedEnvironmentLoop:
    if self._actor is not None:
      # Sends the items already made (the learner still samples, so this returns) and frees the
      # writers now: Acme's adders otherwise flush in `__del__`, 10 s each when it is slow.
      self._actor.close()
    count = self._builder.config.envs_per_actor
    seeds = actor_environment_seeds(self._seed, self._restarts, count)
    environments = [_FaultTaggingEnvironment(self._environment_factory(seed)) for seed in seeds]
    adders = [self._builder.make_adder(self._replay) for _ in range(count)]
    self._actor = self._builder.make_actor(self._network, adders, variable_source=self._variable_server,
                                           num_environments=count, seed=seeds[0],
                                           environment_name=self._environment_name)
    return actor_lib.BatchedEnvironmentLoop(environments, self._actor, counter=self._counter,
                                            logger=self._logger)

  def run(self):
    while not lp.wait_for_stop(0):
      try:
        # One lock-step at a time, so that a stop is seen right after an insert unblocks.
        self._loop.run(num_steps=self._builder.config.envs_per_actor)
      except Exception as error:  # pylint: disable=broad-except
        if lp.wait_for_stop(0):
          break  # The program is stopping: the replay server went away under the writers.
        if isinstance(error, actor_lib.NonFiniteTimestepError):
          self._failure = f'actor {self._actor_id} stopped: {error}'
          logging.error('%s', self._failure)
          lp.wait_for_stop()  # The monitor reads `failure()`, then stops the program.
          break
        if not isinstance(error, EnvironmentFault):
          raise
        self._restarts += 1
        logging.exception('actor %d: %r; restarting its environments (restart %d, partial episodes '
                          'dropped).', self._actor_id, error, self._restarts)
        self._loop = self._make_loop()
    # No `self._actor.close()` here: its flush would wait on the rate limiter, which nothing
    # samples from any more. The items already sent are in the replay's checkpoint.
    exit_if_own_process()

  def weights_version(self) -> int:
    return self._actor.learner_steps

  def restarts(self) -> int:
    return self._restarts

  def failure(self) -> Optional[str]:
    """Why this actor stopped acting (an environment's non-finite timestep), or None."""
    return self._failure


class EvaluatorNode:
  """Evaluates the latest weights every `period_s` seconds with a greedy actor (no noise, no
  adder) of `num_episodes` environments; the mean result is the program's evaluation return.

  - Single-player environments: one greedy episode per environment; the mean return.
  - Two-player games (`MuZeroBuilder.two_player`, from the environment spec; `arena.game_of`
    gives the pyspiel game the opponent needs): self-play returns say nothing (one side always
    wins), so the agent plays `num_episodes` games against `opponent` (one of
    `environments.opponents.OPPONENTS`; a uniformly random player by default) through
    `agents.muzero.arena`, half as first and half as second player, and the evaluation return is
    its mean score (+1 win, 0 draw, -1 loss). So `--target_eval_return` and the progress line
    keep their meaning: higher is better, 1 wins every game, and against 'minimax' (which never
    loses at small games) 0 means unbeaten.
  """

  def __init__(self, config: config_lib.MuZeroConfig, environment_spec: specs.EnvironmentSpec,
               environment_factory: EnvironmentFactory, variable_server, run_dir: str, seed: int,
               num_episodes: int, period_s: float, num_threads: int = 1,
               opponent: str = 'random'):
    limit_threads(num_threads)
    builder = builder_lib.MuZeroBuilder(config, environment_spec)
    self._environments = [environment_factory(10**6 + seed + index) for index in range(num_episodes)]
    board_game = builder.two_player
    self._game = arena.game_of(self._environments[0]) if board_game else None
    self._opponent = opponents.make_opponent(opponent, self._game, seed) if board_game else None
    self._opponent_name = opponent
    self._actor = builder.make_actor(builder.make_network(), None, variable_source=variable_server,
                                     num_environments=num_episodes, greedy=True, seed=seed,
                                     environment_name=getattr(environment_factory,
                                                              'environment_id', None))
    self._logger = loggers_lib.make_logger('evaluator', run_dir, steps_key=learning.LEARNER_STEPS,
                                           time_delta=0.0, print_fn=None)
    self._period_s = period_s
    self._last: Optional[Tuple[int, float]] = None

  def evaluate(self, should_stop: Optional[Callable[[], bool]] = None
               ) -> Optional[Dict[str, float]]:
    """Evaluates the latest weights once; returns (and logs) the figures.

    `should_stop` is asked before every batched search; once it returns True the evaluation is
    abandoned, nothing is logged and the result is None.
    """
    self._actor.update_and_wait()
    learner_steps = self._actor.learner_steps
    if self._game is None:
      returns = actor_lib.run_one_episode_each(self._actor, self._environments, should_stop)
      if returns is None:
        return None
      figures = {'evaluation_return': float(np.mean(returns)),
                 'evaluation_return_min': float(np.min(returns))}
    else:
      result = arena.play_games(self._actor, self._game, self._opponent, len(self._environments),
                                should_stop)
      if result is None:
        return None
      figures = {'evaluation_return': result.mean_score,
                 'evaluation_return_min': float(min(result.scores))}
      figures.update({f'vs_{self._opponent_name}_{name}': count
                      for name, count in result.counts().items()})
    self._last = (learner_steps, figures['evaluation_return'])
    figures[learning.LEARNER_STEPS] = learner_steps
    self._logger.write(figures)
    return figures

  def run(self):
    # Checked between searches too, so that a stop does not wait for the end of an episode.
    stop_requested = lambda: lp.wait_for_stop(0)
    while True:
      self.evaluate(stop_requested)
      if lp.wait_for_stop(self._period_s):
        return

  def last_evaluation(self) -> Optional[Tuple[int, float]]:
    """(learner step of the weights, evaluation return) of the latest evaluation, or None."""
    return self._last
