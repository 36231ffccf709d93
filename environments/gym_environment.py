"""A dm_env view of a gymnasium environment with discrete or continuous actions and 32-bit specs.

gymnasium separates `terminated` (the MDP ended: no future value) from `truncated` (a time
limit cut the episode: the future still has value). MuZero's n-step value targets need that
distinction, so it is carried into the dm_env discount: termination -> LAST with discount 0,
truncation -> LAST with discount 1, so targets bootstrap through time limits.

Actions: a `Discrete` space becomes an int32 `DiscreteArray`; a `Box` space (continuous control:
Pendulum, MountainCarContinuous, MuJoCo) a float32 `BoundedArray` of the same shape and bounds,
which must be one-dimensional and finite (the agent's policy squashes its samples into them).
Any other space (MultiDiscrete, Dict, Tuple, ...) is refused when the environment is made, with
the space named, so a bad id fails before a distributed program starts any process.
"""

from typing import Any, Optional

import dm_env
import gymnasium
import numpy as np
from dm_env import specs

from environments import specs as environment_specs


def observation_spec_of(space: gymnasium.Space) -> specs.Array:
  """The 32-bit dm_env spec of what `convert_observation` returns for `space`."""
  if isinstance(space, gymnasium.spaces.Discrete):
    return specs.BoundedArray((int(space.n),), np.float32, 0.0, 1.0, name='observation')
  if isinstance(space, gymnasium.spaces.Box):
    dtype = _32_bit(space.dtype)
    if np.issubdtype(dtype, np.integer):
      return specs.BoundedArray(space.shape, dtype, space.low.min(), space.high.max(), name='observation')
    return specs.Array(space.shape, dtype, name='observation')
  raise ValueError(
      f'observation space {space} is not supported; allowed: Box (vectors, images) or Discrete '
      '(one-hot encoded).')


def convert_observation(space: gymnasium.Space, observation: Any) -> np.ndarray:
  """Discrete observations become one-hot float32 vectors; Box observations are cast to 32 bits."""
  if isinstance(space, gymnasium.spaces.Discrete):
    one_hot = np.zeros((int(space.n),), np.float32)
    one_hot[int(observation) - int(space.start)] = 1.0
    return one_hot
  return np.asarray(observation, dtype=_32_bit(space.dtype))


def action_spec_of(space: gymnasium.Space, environment_name: str) -> specs.Array:
  """The dm_env action spec of `space`: DiscreteArray for Discrete, float32 BoundedArray for Box.

  Raises:
    ValueError: naming the space and `environment_name`, for any other space and for a Box that
      is not one-dimensional with finite bounds.
  """
  if isinstance(space, gymnasium.spaces.Discrete):
    return specs.DiscreteArray(int(space.n), dtype=np.int32, name='action')
  allowed = ('allowed: Discrete, or a one-dimensional Box of float actions with finite bounds '
             '(continuous control).')
  if not isinstance(space, gymnasium.spaces.Box):
    raise ValueError(f'action space {space} of {environment_name} is not supported; {allowed}')
  if (len(space.shape) != 1 or not np.issubdtype(space.dtype, np.floating)
      or not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high)))
      or not np.all(space.low < space.high)):
    raise ValueError(f'action space {space} of {environment_name} is not supported; {allowed}')
  return specs.BoundedArray(space.shape, np.float32, space.low.astype(np.float32),
                            space.high.astype(np.float32), name='action')


def _32_bit(dtype: np.dtype) -> np.dtype:
  dtype = np.dtype(dtype)
  if dtype == np.float64:
    return np.dtype(np.float32)
  if dtype == np.int64:
    return np.dtype(np.int32)
  return dtype


class GymnasiumEnvironment(environment_specs.ScalarRewardSpecs, dm_env.Environment):
  """Wraps a gymnasium environment whose action space is `Discrete` or a bounded `Box`.

  The seed is passed to the first `reset` (and to the action space); later resets continue the
  environment's own seeded generator, so an episode sequence is reproducible from the seed.
  """

  def __init__(self, environment: gymnasium.Env, seed: Optional[int] = None):
    action_space = environment.action_space
    self._action_spec = action_spec_of(
        action_space, environment.spec.id if environment.spec else str(environment))
    self._environment = environment
    self._is_discrete = isinstance(action_space, gymnasium.spaces.Discrete)
    self._action_offset = int(action_space.start) if self._is_discrete else 0
    self._observation_space = environment.observation_space
    self._observation_spec = observation_spec_of(self._observation_space)
    self._seed = seed
    if seed is not None:
      action_space.seed(seed)
    self._reset_next_step = True

  def reset(self) -> dm_env.TimeStep:
    observation, _ = self._environment.reset(seed=self._seed)
    self._seed = None
    self._reset_next_step = False
    return dm_env.restart(convert_observation(self._observation_space, observation))

  def step(self, action) -> dm_env.TimeStep:
    if self._reset_next_step:
      return self.reset()
    observation, reward, terminated, truncated, _ = self._environment.step(
        self._gymnasium_action(action))
    observation = convert_observation(self._observation_space, observation)
    reward = np.float32(reward)
    if terminated:
      self._reset_next_step = True
      return dm_env.TimeStep(dm_env.StepType.LAST, reward, np.float32(0.0), observation)
    if truncated:
      self._reset_next_step = True
      return dm_env.truncation(reward, observation, discount=np.float32(1.0))
    return dm_env.transition(reward, observation, discount=np.float32(1.0))

  def _gymnasium_action(self, action):
    """`action` as the gymnasium space takes it; raises ValueError if the spec does not allow it."""
    spec = self._action_spec
    if self._is_discrete:
      action = int(action)
      if not 0 <= action < spec.num_values:
        raise ValueError(f'action {action} is out of range; allowed: 0..{spec.num_values - 1}.')
      return action + self._action_offset
    action = np.asarray(action, np.float32)
    if (action.shape != spec.shape or not np.all(np.isfinite(action))
        or np.any(action < spec.minimum) or np.any(action > spec.maximum)):
      raise ValueError(f'action {action.tolist()} is not allowed; allowed: finite float vectors '
                       f'of shape {spec.shape} within [{spec.minimum.tolist()}, '
                       f'{spec.maximum.tolist()}].')
    return action

  def action_spec(self) -> specs.Array:
    return self._action_spec

  def observation_spec(self) -> specs.Array:
    return self._observation_spec

  @property
  def gymnasium_environment(self) -> gymnasium.Env:
    return self._environment

  def close(self):
    self._environment.close()
