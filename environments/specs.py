"""The 32-bit action, reward and discount specs every environment here shares."""

import numpy as np
from dm_env import specs


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
