"""Single-process MuZero: actor, learner and an in-process Reverb server, for quick local use.

In the style of Acme's `agents.agent.Agent`: acting and observing go to the actor, and `update`
runs as many learner steps as the observed environment steps pay for: one learner step per
batch_size / samples_per_insert environment steps (each environment step inserts one sequence).
The replay table uses a `MinSize` rate limiter: actor and learner share this thread, so a
`SampleToInsertRatio` limiter could block one forever waiting for the other.

Works with `acme.EnvironmentLoop` (one environment) and with
`agents.muzero.actor.BatchedEnvironmentLoop` (B environments, one search per step).
"""

from typing import Any, List, Optional, Sequence

import dm_env
import numpy as np
import reverb
from acme import core
from acme import specs
from acme.utils import counting
from acme.utils import loggers

import networks
from agents.muzero import builder as builder_lib
from agents.muzero import config as config_lib


class MuZero(core.Actor, core.VariableSource):
  """Acts, stores sequences in Reverb and learns, all in one process."""

  def __init__(self,
               environment_spec: specs.EnvironmentSpec,
               config: config_lib.MuZeroConfig,
               num_environments: int = 1,
               network: Optional[networks.MuZeroNetwork] = None,
               seed: int = 0,
               counter: Optional[counting.Counter] = None,
               learner_logger: Optional[loggers.Logger] = None,
               checkpoint_directory: Optional[str] = None):
    """Makes replay, learner and actor.

    Args:
      environment_spec: spec of the environment(s) to act in.
      config: agent configuration.
      num_environments: B environments driven in lock-step (1 for `acme.EnvironmentLoop`).
      network: the learner's network; made from `config.network` when None.
      seed: seeds the actor's search noise and action sampling.
      counter: parent counter of the learner's steps.
      learner_logger: the learner's logger; Acme's default when None.
      checkpoint_directory: where the learner checkpoints (see `MuZeroLearner.save_checkpoint`).
    """
    self._builder = builder_lib.MuZeroBuilder(config, environment_spec)
    self._config = self._builder.config
    self._server = reverb.Server(self._builder.make_replay_tables(single_process=True), port=None)
    self._address = f'localhost:{self._server.port}'
    self.replay_client = reverb.Client(self._address)
    self.network = network or self._builder.make_network()
    self.learner = self._builder.make_learner(
        self.network, self._builder.make_dataset(self._address), self.replay_client,
        counter=counter, logger=learner_logger, checkpoint_directory=checkpoint_directory,
        reanalyzed_dataset=self._builder.make_reanalyzed_dataset(self._address))
    # Reanalysis in this thread: every learner step pays for the reanalysed items it samples,
    # divided by the times each is sampled (`reanalyze_samples_per_insert`).
    self.reanalyzer = None
    self._reanalyze_credit = 0.0
    if self._config.reanalyze:
      self.reanalyzer = self._builder.make_reanalyzer(
          self._builder.make_network(), self.replay_client, self.learner, seed=seed + 1,
          wait_for_weights=True)
    adders = [self._builder.make_adder(self.replay_client) for _ in range(num_environments)]
    self.actor = self._builder.make_actor(self._builder.make_network(), adders,
                                          variable_source=self.learner,
                                          num_environments=num_environments, seed=seed)
    self._num_observations = 0
    self._num_learner_steps = 0
    # Sequences reach the table up to L steps after the step that starts them (and the writer
    # keeps a couple in flight), so wait for that margin beyond min_replay_size: sampling below
    # MinSize would block this thread, which is also the one that inserts.
    sequence_margin = num_environments * (self._config.sequence_length + 2)
    self._min_observations = (max(self._config.min_replay_size, self._config.batch_size)
                              + sequence_margin)
    self._observations_per_learner_step = self._config.batch_size / self._config.samples_per_insert

  @property
  def num_environments(self) -> int:
    return self.actor.num_environments

  @property
  def learner_steps(self) -> int:
    return self._num_learner_steps

  @property
  def num_observations(self) -> int:
    return self._num_observations

  @property
  def replay_address(self) -> str:
    return self._address

  def replay_size(self) -> int:
    return self.replay_client.server_info()[self._builder.table].current_size

  def make_evaluator(self, num_environments: int = 1, seed: int = 0):
    """A greedy actor without adders, on its own copy of the network, fed by the learner."""
    return self._builder.make_actor(self._builder.make_network(), None,
                                    variable_source=self.learner,
                                    num_environments=num_environments, greedy=True, seed=seed)

  # Batched interface (agents.muzero.actor.BatchedEnvironmentLoop).

  def select_actions(self, observations: Sequence[Any]) -> np.ndarray:
    return self.actor.select_actions(observations)

  def observe_first_at(self, index: int, timestep: dm_env.TimeStep):
    self.actor.observe_first_at(index, timestep)

  def observe_at(self, index: int, action, next_timestep: dm_env.TimeStep):
    self._num_observations += 1
    self.actor.observe_at(index, action, next_timestep)

  @property
  def last_search(self):
    return self.actor.last_search

  # acme.core.Actor interface.

  def select_action(self, observation: Any) -> np.ndarray:
    return self.actor.select_action(observation)

  def observe_first(self, timestep: dm_env.TimeStep):
    self.actor.observe_first(timestep)

  def observe(self, action, next_timestep: dm_env.TimeStep):
    self._num_observations += 1
    self.actor.observe(action, next_timestep)

  def update(self, wait: bool = True):
    """Runs the learner steps the observations so far pay for, then refreshes the actor.

    The actor's refresh blocks (wait=True by default): in one process a background fetch gains
    nothing and would make runs depend on thread timing.
    """
    del wait
    if self._num_observations < self._min_observations:
      return
    due = 1 + int((self._num_observations - self._min_observations)
                  / self._observations_per_learner_step)
    if due <= self._num_learner_steps:
      return
    for _ in range(due - self._num_learner_steps):
      self._reanalyze_for_one_learner_step()
      self.learner.step()
    self._num_learner_steps = due
    self.actor.update(wait=True)

  def _reanalyze_for_one_learner_step(self):
    """Reanalyses the items one learner step's share of them pays for (whole reanalyzer
    batches; the first before the first step, whose sample would otherwise wait forever)."""
    if self.reanalyzer is None:
      return
    config = self._config
    self._reanalyze_credit += config.batch_split[1] / config.reanalyze_samples_per_insert
    if self.reanalyzer.items_written == 0:
      self._reanalyze_credit = max(self._reanalyze_credit, config.reanalyze_batch_size)
    while self._reanalyze_credit >= config.reanalyze_batch_size:
      self._reanalyze_credit -= self.reanalyzer.step()

  def get_variables(self, names: Sequence[str]) -> List[List[np.ndarray]]:
    return self.learner.get_variables(names)

  def close(self):
    """Closes the actor's adders and the reanalyzer's writer, then stops the replay server."""
    self.actor.close()
    if self.reanalyzer is not None:
      self.reanalyzer.close()
    self._server.stop()
