"""The 32-bit action, reward and discount specs every environment here shares."""

import numpy as np
from dm_env import specs


def action_spec(num_actions: int) -> specs.DiscreteArray:
  return specs.DiscreteArray(num_actions, dtype=np.int32, name='action')


def reward_spec() -> specs.Array:
  return specs.Array((), np.float32, name='reward')


def discount_spec() -> specs.BoundedArray:
  return specs.BoundedArray((), np.float32, 0.0, 1.0, name='discount')
