"""dm_env environments as an Acme user might write them: dtypes and shapes none of ours use.

Our own environments all share 32-bit specs (`environments.specs`); these do not, so that the
agent is tested on what users bring: the dm_env default int64 actions, float64 rewards,
discounts and observations, uint8 actions and rank-2 observations. Each records the actions
`step` received, so that tests can check their dtype against the action spec.

The `make_*` functions are environment factories (`seed -> dm_env.Environment`) for
`launch.local --env=python:tests.agents.user_environments:make_...`.
"""

from typing import List, Optional, Sequence

import dm_env
import numpy as np
from dm_env import specs


class UserEnvironment(dm_env.Environment):
  """Episodes of `episode_length` steps; the action t mod A at step t pays 1, others pay 0.

  The observation is the step t (the final one repeats the last step's), one-hot over the
  episode length, tiled to `observation_shape` (whose size must be a multiple of the episode
  length). The last step ends with discount 0.

  Attributes:
    actions: every action `step` received, as given (not converted).
  """

  def __init__(self, action_dtype=np.int32, reward_dtype=np.float32, discount_dtype=np.float32,
               observation_dtype=np.float32, observation_shape: Sequence[int] = (4,),
               num_actions: int = 3, episode_length: int = 4, seed: Optional[int] = None):
    size = int(np.prod(observation_shape))
    if size % episode_length:
      raise ValueError(f'observation_shape={tuple(observation_shape)} has {size} entries; it needs '
                       f'a multiple of episode_length={episode_length}.')
    self._action_dtype = np.dtype(action_dtype)
    self._reward_dtype = np.dtype(reward_dtype)
    self._discount_dtype = np.dtype(discount_dtype)
    self._observation_dtype = np.dtype(observation_dtype)
    self._observation_shape = tuple(observation_shape)
    self._num_actions = num_actions
    self._episode_length = episode_length
    self._first_target = (seed or 0) % num_actions
    self._t = 0
    self.actions: List = []

  def _observation(self) -> np.ndarray:
    one_hot = np.zeros(self._episode_length, self._observation_dtype)
    one_hot[min(self._t, self._episode_length - 1)] = 1
    return np.tile(one_hot, int(np.prod(self._observation_shape)) // self._episode_length).reshape(
        self._observation_shape)

  def reset(self) -> dm_env.TimeStep:
    self._t = 0
    return dm_env.restart(self._observation())

  def step(self, action) -> dm_env.TimeStep:
    self.actions.append(action)
    target = (self._first_target + self._t) % self._num_actions
    reward = self._reward_dtype.type(1.0 if int(action) == target else 0.0)
    self._t += 1
    if self._t == self._episode_length:
      return dm_env.termination(reward, self._observation())._replace(
          discount=self._discount_dtype.type(0.0))
    return dm_env.transition(reward, self._observation(), discount=self._discount_dtype.type(1.0))

  def observation_spec(self) -> specs.Array:
    return specs.Array(self._observation_shape, self._observation_dtype, name='observation')

  def action_spec(self) -> specs.DiscreteArray:
    return specs.DiscreteArray(self._num_actions, dtype=self._action_dtype, name='action')

  def reward_spec(self) -> specs.Array:
    return specs.Array((), self._reward_dtype, name='reward')

  def discount_spec(self) -> specs.BoundedArray:
    return specs.BoundedArray((), self._discount_dtype, 0.0, 1.0, name='discount')


def make_int32_environment(seed: Optional[int]) -> UserEnvironment:
  """The baseline: the 32-bit specs our own environments have."""
  return UserEnvironment(seed=seed)


def make_int64_float64_environment(seed: Optional[int]) -> UserEnvironment:
  """dm_env's defaults: int64 actions, float64 rewards, discounts and observations."""
  return UserEnvironment(action_dtype=np.int64, reward_dtype=np.float64,
                         discount_dtype=np.float64, observation_dtype=np.float64, seed=seed)


def make_uint8_rank2_environment(seed: Optional[int]) -> UserEnvironment:
  """uint8 actions and rank-2 float32 observations [4, 3]."""
  return UserEnvironment(action_dtype=np.uint8, observation_shape=(4, 3), seed=seed)


def make_user_environment(seed: Optional[int], **kwargs) -> UserEnvironment:
  """Any `UserEnvironment`, its settings as keyword arguments."""
  return UserEnvironment(seed=seed, **kwargs)


class DictActionEnvironment(UserEnvironment):
  """A UserEnvironment whose action spec is a dict of bounded arrays (a robot's arm and grip),
  which MuZero's networks cannot take."""

  def action_spec(self):
    return {'arm': specs.BoundedArray((2,), np.float32, -1.0, 1.0, name='arm'),
            'grip': specs.BoundedArray((1,), np.float32, 0.0, 1.0, name='grip')}


def make_dict_action_environment(seed: Optional[int]) -> DictActionEnvironment:
  """Actions a dict of Box-like bounded arrays."""
  return DictActionEnvironment(seed=seed)


class TwoPlayerUserEnvironment(UserEnvironment):
  """A UserEnvironment two players take turns in: its observation is a dict of the step as
  [1, 4, 1] planes ('board') and the player to move ('to_play', t mod 2), and each reward is the
  mover's. Not an OpenSpiel game: the observation spec alone says it has two players."""

  def __init__(self, seed: Optional[int] = None, **kwargs):
    super().__init__(observation_shape=(1, 4, 1), seed=seed, **kwargs)

  def _observation(self):
    return {'board': super()._observation(), 'to_play': np.int32(self._t % 2)}

  def observation_spec(self):
    return {'board': super().observation_spec(),
            'to_play': specs.BoundedArray((), np.int32, 0, 1, name='to_play')}


def make_two_player_environment(seed: Optional[int]) -> TwoPlayerUserEnvironment:
  """A two-player game without a pyspiel game."""
  return TwoPlayerUserEnvironment(seed=seed)
