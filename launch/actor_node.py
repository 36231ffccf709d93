"""The actor node: B environments in lock-step, one batched search per step, into the replay."""

from typing import List, Optional

import dm_env
import launchpad as lp
import reverb
from absl import logging
from acme import specs
from acme.utils import counting

from agents.muzero import actor as actor_lib
from agents.muzero import builder as builder_lib
from agents.muzero import config as config_lib
from agents.muzero import loggers as loggers_lib
from environments import wrapper
from launch.node_common import EnvironmentFactory, exit_if_own_process, limit_threads


def actor_environment_seeds(seed: int, restarts: int, count: int) -> List[int]:
  """Seeds of an actor's `count` environments after `restarts` restarts (the first also seeds its
  search): each restart takes seeds no earlier environment had, so it does not replay the same
  episodes."""
  base = seed + 10_000 * restarts
  return [base + index for index in range(count)]


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
    # A write waiting on the rate limiter gives up at the stop (the learner no longer samples).
    adders = [self._builder.make_adder(self._replay, should_stop=lambda: lp.wait_for_stop(0))
              for _ in range(count)]
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
