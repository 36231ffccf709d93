"""EnvironmentWrapper forwards every dm_env method, so a subclass overrides only what it changes."""

import dm_env
import numpy as np
from dm_env import specs

from environments import wrapper

METHODS = ('reset', 'step', 'observation_spec', 'action_spec', 'reward_spec', 'discount_spec',
           'close')


class RecordingEnvironment(dm_env.Environment):
  """Returns a distinct object from every method and records the calls with their arguments."""

  def __init__(self):
    self.calls = []
    self.results = {name: object() for name in METHODS}

  def _record(self, name, *args):
    self.calls.append((name, args))
    return self.results[name]

  def reset(self):
    return self._record('reset')

  def step(self, action):
    return self._record('step', action)

  def observation_spec(self):
    return self._record('observation_spec')

  def action_spec(self):
    return self._record('action_spec')

  def reward_spec(self):
    return self._record('reward_spec')

  def discount_spec(self):
    return self._record('discount_spec')

  def close(self):
    return self._record('close')


def test_every_method_reaches_the_wrapped_environment_with_its_arguments():
  inner = RecordingEnvironment()
  outer = wrapper.EnvironmentWrapper(inner)
  assert outer.environment is inner
  for name in METHODS:
    arguments = (3,) if name == 'step' else ()
    assert getattr(outer, name)(*arguments) is inner.results[name]
  assert inner.calls == [(name, (3,) if name == 'step' else ()) for name in METHODS]


class NegatedRewards(wrapper.EnvironmentWrapper):

  def step(self, action):
    timestep = self._environment.step(action)
    return timestep._replace(reward=-timestep.reward)


class OneStepEnvironment(dm_env.Environment):

  def reset(self):
    return dm_env.restart(np.zeros(2, np.float32))

  def step(self, action):
    return dm_env.termination(np.float32(action), np.ones(2, np.float32))

  def observation_spec(self):
    return specs.Array((2,), np.float32)

  def action_spec(self):
    return specs.DiscreteArray(4)

  def reward_spec(self):
    return specs.Array((), np.float32, name='own_reward')


def test_a_subclass_changes_what_it_overrides_and_keeps_the_rest():
  environment = NegatedRewards(OneStepEnvironment())
  environment.reset()
  assert environment.step(2).reward == -2.0
  assert environment.reward_spec().name == 'own_reward'  # Not dm_env's default spec.
  assert environment.action_spec().num_values == 4
