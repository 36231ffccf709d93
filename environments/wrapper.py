"""`EnvironmentWrapper`: the base of wrappers that change part of a dm_env and forward the rest.

Acme's `acme.wrappers.EnvironmentWrapper` is this class, but importing it runs
`acme/wrappers/__init__.py` (Acme 0.4.0), which imports the old `gym` package that this stack
replaces with gymnasium: the import fails. A subclass overrides what it changes.
"""

import dm_env


class EnvironmentWrapper(dm_env.Environment):
  """Forwards every `dm_env.Environment` method to the wrapped `environment`."""

  def __init__(self, environment: dm_env.Environment):
    self._environment = environment

  @property
  def environment(self) -> dm_env.Environment:
    """The wrapped environment."""
    return self._environment

  def reset(self) -> dm_env.TimeStep:
    return self._environment.reset()

  def step(self, action) -> dm_env.TimeStep:
    return self._environment.step(action)

  def observation_spec(self):
    return self._environment.observation_spec()

  def action_spec(self):
    return self._environment.action_spec()

  def reward_spec(self):
    return self._environment.reward_spec()

  def discount_spec(self):
    return self._environment.discount_spec()

  def close(self):
    return self._environment.close()
