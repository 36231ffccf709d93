"""Tiny deterministic dm_env environments for the agent tests (acme.testing.fakes needs old gym)."""

import dm_env
import numpy as np
from dm_env import specs


class CountingEnvironment(dm_env.Environment):
  """Episodes of `episode_length` steps; observation [t, 1], reward t + 1 after step t.

  The last step ends with discount 0 (termination) or 1 (`truncate=True`, a time limit).
  """

  def __init__(self, episode_length: int = 4, num_actions: int = 2, truncate: bool = False):
    self._episode_length = episode_length
    self._num_actions = num_actions
    self._truncate = truncate
    self._t = 0

  def _observation(self):
    return np.asarray([self._t, 1.0], np.float32)

  def reset(self):
    self._t = 0
    return dm_env.restart(self._observation())

  def step(self, action):
    assert 0 <= int(action) < self._num_actions
    return self._advance(np.float32(self._t + 1))

  def _advance(self, reward: np.float32) -> dm_env.TimeStep:
    """One step on, paying `reward`; the last one ends the episode."""
    self._t += 1
    if self._t == self._episode_length:
      discount = np.float32(1.0 if self._truncate else 0.0)
      return dm_env.TimeStep(dm_env.StepType.LAST, reward, discount, self._observation())
    return dm_env.transition(reward, self._observation(), discount=np.float32(1.0))

  def observation_spec(self):
    return specs.Array((2,), np.float32, name='observation')

  def action_spec(self):
    return specs.DiscreteArray(self._num_actions, dtype=np.int32, name='action')

  def reward_spec(self):
    return specs.Array((), np.float32, name='reward')

  def discount_spec(self):
    return specs.BoundedArray((), np.float32, 0.0, 1.0, name='discount')


class DelayedRewardChain(dm_env.Environment):
  """Three steps; the first action decides everything, and only planning sees it.

  Action 0 at the start pays 0.3 at once (a myopic trap); action 1 pays nothing then, nothing on
  the second step and 1.0 on the third. Later actions do not matter. Optimal return: 1.0.
  Observations one-hot encode (step, first action).
  """

  NUM_STATES = 7  # start, then (step 1..3) x (branch 0 or 1).

  def __init__(self):
    self._t = 0
    self._branch = 0

  def _observation(self):
    one_hot = np.zeros(self.NUM_STATES, np.float32)
    one_hot[0 if self._t == 0 else 1 + 2 * (self._t - 1) + self._branch] = 1.0
    return one_hot

  def reset(self):
    self._t, self._branch = 0, 0
    return dm_env.restart(self._observation())

  def step(self, action):
    action = int(action)
    reward = 0.0
    if self._t == 0:
      self._branch = action
      reward = 0.3 if action == 0 else 0.0
    self._t += 1
    if self._t == 3:
      reward = 1.0 if self._branch == 1 else 0.0
      return dm_env.TimeStep(dm_env.StepType.LAST, np.float32(reward), np.float32(0.0),
                             self._observation())
    return dm_env.transition(np.float32(reward), self._observation(), discount=np.float32(1.0))

  def observation_spec(self):
    return specs.Array((self.NUM_STATES,), np.float32, name='observation')

  def action_spec(self):
    return specs.DiscreteArray(2, dtype=np.int32, name='action')

  def reward_spec(self):
    return specs.Array((), np.float32, name='reward')

  def discount_spec(self):
    return specs.BoundedArray((), np.float32, 0.0, 1.0, name='discount')


class NonFiniteEnvironment(CountingEnvironment):
  """A `CountingEnvironment` of 6 steps whose `field` is `value` at step `bad_step` (0: reset).

  `field` is 'reward', 'discount' or 'observation' (its first entry), as an environment with a
  numerical bug would return it.
  """

  def __init__(self, field: str = 'reward', bad_step: int = 3, value: float = np.nan):
    super().__init__(episode_length=6)
    self._field = field
    self._bad_step = bad_step
    self._value = value

  def _spoil(self, timestep: dm_env.TimeStep) -> dm_env.TimeStep:
    if self._t != self._bad_step:
      return timestep
    if self._field == 'observation':
      observation = timestep.observation.copy()
      observation[0] = self._value
      return timestep._replace(observation=observation)
    return timestep._replace(**{self._field: np.float32(self._value)})

  def reset(self):
    return self._spoil(super().reset())

  def step(self, action):
    return self._spoil(super().step(action))


def record_action(actions: list, action, spec: specs.BoundedArray) -> float:
  """Checks that `action` is what a one-dimensional `spec` allows (a float64 vector [1] within
  its bounds, as the actor must hand it), appends it to `actions` and returns it."""
  action = np.asarray(action)
  assert action.shape == (1,) and action.dtype == np.float64, action
  assert spec.minimum <= action[0] <= spec.maximum, action
  actions.append(float(action[0]))
  return float(action[0])


class ContinuousThreshold(dm_env.Environment):
  """One-step episodes with a continuous action in [-2, 2] that pays 1 at or above `threshold`
  and 0 below.

  The observation is constant, so the best actions are the same in every episode; every action
  received is recorded and checked against the bounds (a float64 vector of shape [1]).
  """

  def __init__(self, threshold: float = 1.0):
    self._threshold = threshold
    self.actions = []

  def reset(self):
    return dm_env.restart(np.ones([2], np.float32))

  def step(self, action):
    action = record_action(self.actions, action, self.action_spec())
    return dm_env.termination(np.float32(action >= self._threshold), np.ones([2], np.float32))

  def observation_spec(self):
    return specs.Array((2,), np.float32, name='observation')

  def action_spec(self):
    return specs.BoundedArray((1,), np.float64, -2.0, 2.0, name='action')

  def reward_spec(self):
    return specs.Array((), np.float32, name='reward')

  def discount_spec(self):
    return specs.BoundedArray((), np.float32, 0.0, 1.0, name='discount')


class ContinuousChain(CountingEnvironment):
  """`CountingEnvironment`'s episodes with a continuous action in [-2, 3] (asymmetric, so that
  the mapping from the canonical [-1, 1] shows) and reward -|a - 1|; every action received is
  checked and recorded in `actions` (`record_action`)."""

  def __init__(self, episode_length: int = 4):
    super().__init__(episode_length)
    self.actions = []

  def step(self, action):
    return self._advance(np.float32(-abs(record_action(self.actions, action,
                                                       self.action_spec()) - 1.0)))

  def action_spec(self):
    return specs.BoundedArray((1,), np.float64, -2.0, 3.0, name='action')
