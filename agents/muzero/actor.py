"""The MuZero actor: one batched search per step for B environments, writing to Reverb.

`MuZeroActor` is an `acme.core.Actor`: with B = 1 it plugs into `acme.EnvironmentLoop`
(`select_action` / `observe_first` / `observe` / `update`). Its batched interface
(`select_actions`, `observe_first_at`, `observe_at`) drives B environments in lock-step with one
compiled search call per step for all of them; `BatchedEnvironmentLoop` runs it.

Continuous actions (a network with `action_size`) are searched with Sampled MuZero
(`agents.muzero.sampled`): the search runs over K actions sampled at the root, the visit counts
choose one of them, the actor returns it in the environment's bounds, and the writers get the K
actions with the search policy over them.

Per decision the actor gives its replay writers (`agents.muzero.replay.ReplayWriter`) the search
policy, the root value and the version of its weights; new items enter at the learner's latest
largest priority, which comes with the weights ('max_priority'). When an episode ends by
truncation (discount 1), the actor evaluates the final observation with the network so that
value targets can bootstrap from it.

Every timestep that enters the actor is checked for NaN and infinite values (float observation
leaves, reward, discount) before anything uses it: a NaN stored in the replay would reach the
learner's loss and, without that check, its weights; the error names the environment instead.
"""

import dataclasses
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

import dm_env
import numpy as np
import tensorflow as tf
import tree
from acme import core
from acme.tf import variable_utils
from acme.utils import counting
from acme.utils import loggers

import search
from agents.muzero import canonical
from agents.muzero import config as config_lib
from agents.muzero import keyed_random
from agents.muzero import replay
from agents.muzero import sampled
from environments import specs as environment_specs
from networks import observations as observations_lib

def make_search_config(config: config_lib.MuZeroConfig, two_player: bool,
                       greedy: bool = False) -> search.SearchConfig:
  """The compiled search's settings: `config.search` with the fields the agent sets
  (`config_lib.AGENT_SET_SEARCH_FIELDS`): the config's discount, `two_player` (the environment
  spec's), no root noise (Dirichlet, or Gumbel's) when `greedy` (evaluation), and temperature 0,
  which every call overrides with the schedule's."""
  return dataclasses.replace(config.search, discount=config.discount, two_player=two_player,
                             add_noise=not greedy, temperature=0.0)


def stack_observations(observations: Sequence[Any]) -> Any:
  """A list of B (nested) observations -> one nest of [B, ...] arrays."""
  return tree.map_structure(lambda *leaves: np.stack(leaves), *observations)


class NonFiniteTimestepError(ValueError):
  """An environment returned a NaN or infinite observation, reward or discount."""


def check_finite(timestep: dm_env.TimeStep, environment: str, step: int) -> None:
  """Raises NonFiniteTimestepError (a ValueError) naming what in `timestep` is NaN or infinite,
  the step and the environment.

  Checks the float leaves of the observation (integer ones cannot be non-finite) and, but for a
  FIRST timestep (dm_env gives it no reward or discount), the reward and discount.

  Args:
    timestep: what the environment returned.
    environment: names the environment in the message, e.g. "environment 3 (gym:CartPole-v1)".
    step: the steps taken in the episode so far, 0 for the reset.
  """
  bad = []
  for path, leaf in tree.flatten_with_path(timestep.observation):
    leaf = np.asarray(leaf)
    if np.issubdtype(leaf.dtype, np.floating) and not np.all(np.isfinite(leaf)):
      name = 'observation' + ''.join(f'[{part!r}]' for part in path)
      values = leaf[~np.isfinite(leaf)]
      bad.append(f'{name} holds {values.size} non-finite values (first: {values.flat[0]})')
  if not timestep.first():
    for name in ('reward', 'discount'):
      value = getattr(timestep, name)
      if not np.all(np.isfinite(np.asarray(value, np.float64))):
        bad.append(f'{name}={value}')
  if bad:
    when = 'at reset' if step == 0 else f'at step {step} of its episode'
    raise NonFiniteTimestepError(
        f'{environment} returned {"; ".join(bad)} {when}; allowed: finite rewards, discounts '
        'and float observations (a NaN or inf in the replay would reach the learner\'s loss).')


class MuZeroActor(core.Actor):
  """Acts by batched MuZero search; see the module docstring.

  Attributes:
    learner_steps: the learner step of the weights in use (from the variable source; 0 without).
    last_search: the SearchOutput (numpy) of the latest `select_actions`.
  """

  def __init__(self,
               network,
               config: config_lib.MuZeroConfig,
               num_environments: int = 1,
               adders: Optional[Sequence[replay.ReplayWriter]] = None,
               variable_source: Optional[core.VariableSource] = None,
               greedy: bool = False,
               seed: int = 0,
               wait_for_variables: bool = True,
               action_dtype=np.int32,
               environment_name: Optional[str] = None,
               action_spec: Optional[Any] = None,
               *,
               two_player: bool):
    """Makes the actor.

    Args:
      network: the actor's `networks.MuZeroNetwork` (its weights are overwritten by the source).
      config: agent configuration.
      num_environments: B, the batch of environments driven in lock-step.
      adders: one adder per environment, or None to write nothing (evaluation).
      variable_source: where fresh weights come from (a learner); None keeps the network's.
      greedy: evaluation mode: no root noise and the most visited action ('gumbel': the
        search's choice without Gumbel noise).
      seed: seeds the search's noise and its choice of action.
      wait_for_variables: block in the constructor until the first weights arrive.
      action_dtype: the dtype of the actions returned, the environment's action spec's (so that
        `env.step` gets what its spec says; the search itself works in int32).
      environment_name: what the environments are (e.g. their id), for the error a non-finite
        timestep raises; None names them by index only.
      action_spec: the environment's continuous action spec (bounds and dtype of the actions
        returned); needed when the network takes continuous actions, else unused.
      two_player: the environment is a two-player game (`environments.specs.is_two_player` of
        its spec; the builder passes it): the search flips the sign of values every ply.
    """
    self._network = network
    self._config = config.validate()
    self._num_environments = num_environments
    if adders is not None and len(adders) != num_environments:
      raise ValueError(f'got {len(adders)} adders for num_environments={num_environments}; '
                       'give one adder per environment or None.')
    self._adders = list(adders) if adders is not None else None
    self._greedy = greedy
    self._action_dtype = np.dtype(action_dtype)
    self._environment_name = environment_name
    self._action_spec = action_spec
    self._sampled_search = None
    if network.action_size is not None:
      if action_spec is None or not canonical.is_continuous(action_spec):
        raise ValueError(f'a network of continuous actions needs the environment\'s continuous '
                         f'action_spec (bounds), got {action_spec!r}.')
      self._sampled_search = sampled.SampledSearch(
          network, sampled.SquashedGaussianProposal(network.action_size,
                                                    config.root_proposal_std_scale),
          config.num_sampled_actions, make_search_config(config, two_player, greedy))
    else:
      self._search = search.SearchFn(network, make_search_config(config, two_player, greedy))
    self._value_fn = tf.function(lambda observation: network.initial_inference(observation).value)
    self._seed = int(seed)
    self._num_searches = 0
    # Keys of the sampled search's per-row random numbers (continuous actions only).
    self._rng = np.random.default_rng(self._seed)
    self._learner_steps = tf.Variable(0, dtype=tf.int64, trainable=False)
    self._max_priority = tf.Variable(1.0, dtype=tf.float32, trainable=False)
    self._variable_client = None
    if variable_source is not None:
      groups = {'network': network.variable_groups()['network'],
                'learner_steps': [self._learner_steps]}
      if self._adders is not None:  # Only writers need the priority of new items.
        groups['max_priority'] = [self._max_priority]
      self._variable_client = variable_utils.VariableClient(
          variable_source, groups, update_period=config.variable_update_period)
      if wait_for_variables:
        self._variable_client.update_and_wait()
    self._extras: List[Optional[Dict[str, np.ndarray]]] = [None] * num_environments
    self._move_numbers = np.zeros(num_environments, np.int64)
    self.last_search = None
    # Continuous actions: [N, K, D] the root actions of the latest `search` (N roots; B for
    # `select_actions`, reanalysis reads its own).
    self.last_sampled_actions = None

  @property
  def num_environments(self) -> int:
    return self._num_environments

  @property
  def learner_steps(self) -> int:
    return int(self._learner_steps.numpy())

  # Batched interface.

  def search(self, batch: Any, final_rows_allowed: bool = False,
             temperatures: Optional[np.ndarray] = None) -> search.SearchOutput:
    """One batched search (numpy output) for a nest of [N, ...] observations, any N.

    Args:
      batch: stacked observations (see `stack_observations`).
      final_rows_allowed: a row without any legal action (a board game's final position, which
        reanalysis meets past the end of an episode) is searched as if every action were legal;
        otherwise such a row is an error, since actors only act in non-final states.
      temperatures: [N] visit-count temperature of each row's `selected_action` ('muzero'),
        None for 0 (the most visited action).
    """
    num_actions = self._network.num_actions
    rows = len(tree.flatten(batch)[0])
    seed = np.asarray([self._seed, self._num_searches], np.int64)
    self._num_searches += 1
    if self._sampled_search is not None:
      output, sampled_actions = self._sampled_search(
          observations_lib.network_input(batch), self._rng.integers(
              0, 2 ** keyed_random.KEY_BITS, rows), seed,
          0.0 if temperatures is None else temperatures)
      self.last_sampled_actions = sampled_actions.numpy()
      return tree.map_structure(lambda x: x.numpy(), output)
    legal_actions = environment_specs.legal_actions(batch)
    if legal_actions is not None:
      legal_actions = np.asarray(legal_actions) > 0.5
      none_legal = ~legal_actions.any(axis=1)
      if none_legal.any():
        if not final_rows_allowed:
          raise ValueError('an observation has no legal action; actors only act in non-final '
                           'states.')
        legal_actions[none_legal] = True
    else:
      legal_actions = np.ones([rows, num_actions], bool)
    # The search takes one tensor: the network input (board-game and Atari dicts become planes).
    output = self._search(observations_lib.network_input(batch, num_actions), legal_actions, seed,
                          0.0 if temperatures is None else temperatures)
    return tree.map_structure(lambda x: x.numpy(), output)

  def select_actions(self, observations: Sequence[Any]) -> np.ndarray:
    """One search for the B observations (one per environment, in order); returns [B] actions
    of `action_dtype`."""
    if len(observations) != self._num_environments:
      raise ValueError(f'got {len(observations)} observations for num_environments='
                       f'{self._num_environments}.')
    if self._greedy:
      temperatures = None
    else:
      learner_steps = self.learner_steps
      temperatures = np.asarray([self._config.temperature(learner_steps, int(moves))
                                 for moves in self._move_numbers], np.float32)
    output = self.search(stack_observations(observations), temperatures=temperatures)
    self.last_search = output
    # The search's own choice: sampled at the temperature in-graph, or Gumbel's.
    actions = output.selected_action
    if self._sampled_search is None:
      actions = actions.astype(self._action_dtype)
    else:  # The chosen slots' actions, in the environment's bounds.
      actions = canonical.environment_actions(
          self.last_sampled_actions[np.arange(self._num_environments), actions],
          self._action_spec)
    weights_version = np.int64(self.learner_steps)
    for index in range(self._num_environments):
      self._extras[index] = {
          'search_policy': output.search_policy[index].astype(np.float32),
          'root_value': np.float32(output.root_value[index]),
          'weights_version': weights_version,
      }
      if self._sampled_search is not None:
        self._extras[index]['sampled_actions'] = self.last_sampled_actions[index]
    max_priority = float(self._max_priority.numpy())
    for adder in self._adders or ():
      adder.max_priority = max_priority
    return actions

  def _check_finite(self, index: int, timestep: dm_env.TimeStep, step: int):
    name = f' ({self._environment_name})' if self._environment_name else ''
    check_finite(timestep, f'environment {index} of {self._num_environments}{name}', step)

  def observe_first_at(self, index: int, timestep: dm_env.TimeStep):
    """Starts an episode of environment `index`.

    Raises:
      NonFiniteTimestepError: the observation holds NaN or inf (`check_finite`).
    """
    self._check_finite(index, timestep, 0)
    self._move_numbers[index] = 0
    self._extras[index] = None
    if self._adders is not None:
      self._adders[index].add_first(timestep)

  def observe_at(self, index: int, action, next_timestep: dm_env.TimeStep):
    """Records environment `index`'s step with the extras of the search that chose `action`.

    Raises:
      NonFiniteTimestepError: the observation, reward or discount holds NaN or inf
        (`check_finite`).
    """
    self._check_finite(index, next_timestep, int(self._move_numbers[index]) + 1)
    self._move_numbers[index] += 1
    if self._adders is None:
      return
    extras = self._extras[index]
    if extras is None:
      raise ValueError(f'environment {index} stepped without a select_actions call before.')
    final_root_value = 0.0
    if next_timestep.last() and float(next_timestep.discount) > 0:
      # Truncated: the episode's future still has value; bootstrap from the network.
      observation = observations_lib.network_input(stack_observations([next_timestep.observation]),
                                                   self._network.num_actions)
      final_root_value = float(self._value_fn(observation).numpy()[0])
    if self._sampled_search is not None:
      action = canonical.canonical_action(action, self._action_spec)
    self._adders[index].add(action, next_timestep, extras,
                            final_root_value=final_root_value)

  # acme.core.Actor interface (one environment, index 0).

  def select_action(self, observation: Any) -> np.ndarray:
    if self._num_environments != 1:
      raise ValueError(f'select_action drives one environment; this actor has '
                       f'num_environments={self._num_environments}: use select_actions.')
    return self.select_actions([observation])[0]

  def observe_first(self, timestep: dm_env.TimeStep):
    self.observe_first_at(0, timestep)

  def observe(self, action, next_timestep: dm_env.TimeStep):
    self.observe_at(0, action, next_timestep)

  def update(self, wait: bool = False):
    if self._variable_client is not None:
      self._variable_client.update(wait)

  def close(self):
    """Closes the adders (before the replay server stops)."""
    for adder in self._adders or ():
      adder.close()

  def update_and_wait(self):
    """Fetches the latest weights now, whatever the update period (e.g. before an evaluation)."""
    if self._variable_client is not None:
      self._variable_client.update_and_wait()


class BatchedEnvironmentLoop(core.Worker):
  """Steps B environments in lock-step with one `select_actions` call per step.

  Each environment is reset as soon as its episode ends; environment steps are counted every
  lock-step, and every finished episode is counted and logged with its return, length, mean
  search root value, the loop's environment steps per second and the age (learner step) of the
  actor's weights.
  """

  def __init__(self, environments: Sequence[dm_env.Environment], actor,
               counter: Optional[counting.Counter] = None,
               logger: Optional[loggers.Logger] = None,
               should_update: bool = True,
               label: str = 'actor'):
    """Makes the loop.

    Args:
      environments: the B environments.
      actor: a `MuZeroActor` (or anything with its batched interface and `update`) for B
        environments.
      counter: counts 'episodes' and 'steps' (environment steps).
      logger: receives one record per finished episode.
      should_update: call `actor.update()` after every step.
      label: name of the default logger.
    """
    if getattr(actor, 'num_environments', len(environments)) != len(environments):
      raise ValueError(f'the actor drives {actor.num_environments} environments; got '
                       f'{len(environments)}.')
    self._environments = list(environments)
    self._actor = actor
    self._counter = counter or counting.Counter()
    self._logger = logger or loggers.make_default_logger(label, steps_key='actor_steps')
    self._should_update = should_update
    self._timesteps = None
    self._returns = self._lengths = self._root_value_sums = None

  def _start(self, index: int):
    timestep = self._environments[index].reset()
    self._timesteps[index] = timestep
    self._returns[index] = 0.0
    self._lengths[index] = 0
    self._root_value_sums[index] = 0.0
    self._actor.observe_first_at(index, timestep)

  def run(self, num_episodes: Optional[int] = None, num_steps: Optional[int] = None,
          max_seconds: Optional[float] = None) -> List[Dict[str, float]]:
    """Runs until `num_episodes` episodes end, `num_steps` environment steps (summed over the B
    environments) are taken or `max_seconds` pass; returns the finished episodes' records.

    Episodes still running when the loop stops continue at the next `run` call.
    """
    if num_episodes is None and num_steps is None and max_seconds is None:
      raise ValueError('give num_episodes, num_steps or max_seconds; the loop would never end.')
    count = len(self._environments)
    if self._timesteps is None:
      self._timesteps = [None] * count
      self._returns, self._lengths = np.zeros(count), np.zeros(count, np.int64)
      self._root_value_sums = np.zeros(count)
      for index in range(count):
        self._start(index)
    start_time = time.time()
    results, steps = [], 0
    while ((num_episodes is None or len(results) < num_episodes) and
           (num_steps is None or steps < num_steps) and
           (max_seconds is None or time.time() - start_time < max_seconds)):
      actions = self._actor.select_actions([timestep.observation for timestep in self._timesteps])
      root_values = getattr(self._actor, 'last_search', None)
      for index, environment in enumerate(self._environments):
        timestep = environment.step(actions[index])
        self._actor.observe_at(index, actions[index], timestep)
        self._timesteps[index] = timestep
        self._returns[index] += float(timestep.reward)
        self._lengths[index] += 1
        if root_values is not None:
          self._root_value_sums[index] += float(root_values.root_value[index])
        if timestep.last():
          now = time.time()
          counts = self._counter.increment(episodes=1)
          result = {
              'episode_return': float(self._returns[index]),
              'episode_length': int(self._lengths[index]),
              'mean_root_value': float(self._root_value_sums[index] / self._lengths[index]),
              # Throughput of all B environments since this `run` began.
              'env_steps_per_second': (steps + index + 1) / max(now - start_time, 1e-9),
              'weights_learner_step': int(getattr(self._actor, 'learner_steps', 0)),
          }
          result.update(counts)
          self._logger.write(result)
          results.append(result)
          self._start(index)
      steps += count
      # Counted as they happen, not at episode ends: an Atari episode lasts thousands of steps.
      self._counter.increment(steps=count)
      if self._should_update:
        self._actor.update()
    return results


def run_one_episode_each(actor, environments: Sequence[dm_env.Environment],
                         should_stop: Optional[Callable[[], bool]] = None) -> Optional[np.ndarray]:
  """Plays exactly one episode in each of the B environments, in lock-step; returns [B] returns.

  Made for evaluation with a greedy actor of B environments: an environment whose episode has
  ended stays in the batch with its first observation (the search needs B roots) and its action
  is ignored. `should_stop` is asked before every lock-step: once it returns True the episodes
  are abandoned and the result is None (an Atari episode can take minutes of search).
  """
  timesteps = [environment.reset() for environment in environments]
  first_observations = [timestep.observation for timestep in timesteps]
  for index, timestep in enumerate(timesteps):
    actor.observe_first_at(index, timestep)
  returns = np.zeros(len(environments))
  done = [False] * len(environments)
  while not all(done):
    if should_stop is not None and should_stop():
      return None
    observations = [first_observations[index] if done[index] else timestep.observation
                    for index, timestep in enumerate(timesteps)]
    actions = actor.select_actions(observations)
    for index, environment in enumerate(environments):
      if done[index]:
        continue
      timesteps[index] = environment.step(actions[index])
      actor.observe_at(index, actions[index], timesteps[index])
      returns[index] += float(timesteps[index].reward)
      done[index] = timesteps[index].last()
  return returns
