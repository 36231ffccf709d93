"""What the agent reads from an environment's specs: the 32-bit action, reward and discount specs
every environment here shares, and the observation entries that make a two-player game.

A turn-based two-player zero-sum game says so in its observation spec, with a `TO_PLAY` entry
(the player to move, 0 or 1): `is_two_player` is the one test of it that everything else reads
(the agent's search and value targets, the evaluator, the launcher's preset). Its rewards are
then the mover's, its other observation entries seen by the player to move, and the agent flips
the sign of values every ply. A `LEGAL_ACTIONS` entry (a 0/1 mask over the actions) restricts the
search at the root, in any environment; `BOARD` holds the position's planes. OpenSpiel's games
(`environments.openspiel`) carry all three, and a user's environment may too.
"""

import collections.abc
from typing import Any

import numpy as np
from dm_env import specs

BOARD = 'board'
LEGAL_ACTIONS = 'legal_actions'
TO_PLAY = 'to_play'


def is_two_player(observation_spec: Any) -> bool:
  """Whether observations of `observation_spec` are of a turn-based two-player zero-sum game: a
  dict with a `TO_PLAY` entry (see the module docstring)."""
  return isinstance(observation_spec, collections.abc.Mapping) and TO_PLAY in observation_spec


def legal_actions(observation: Any) -> Any:
  """The `LEGAL_ACTIONS` mask of an observation (or batch of them), or None when it has none."""
  if isinstance(observation, collections.abc.Mapping):
    return observation.get(LEGAL_ACTIONS)
  return None


class ScalarRewardSpecs:
  """Mixin for a dm_env.Environment with scalar float32 rewards and discounts in [0, 1]."""

  def reward_spec(self) -> specs.Array:
    return specs.Array((), np.float32, name='reward')

  def discount_spec(self) -> specs.BoundedArray:
    return specs.BoundedArray((), np.float32, 0.0, 1.0, name='discount')


class DiscreteActionSpecs(ScalarRewardSpecs):
  """Mixin for a dm_env.Environment with `self._num_actions` discrete actions, scalar float32
  rewards and discounts in [0, 1]."""

  _num_actions: int

  def action_spec(self) -> specs.DiscreteArray:
    return specs.DiscreteArray(self._num_actions, dtype=np.int32, name='action')
