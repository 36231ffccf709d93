"""`python -m tests.launch.faulty_run FLAGS`: launch.local, with actor 0's environments raising.

The first environments of actor 0 raise after `--raise_after_steps` steps; the environments it
makes when it restarts (other seeds) behave. Everything else is `launch.local` with its flags.
"""

import dataclasses

import dm_env
from absl import app
from absl import flags

from environments import make_environment
from environments import wrapper
from launch import actor_node
from launch import local
from launch import program as program_lib

_RAISE_AFTER_STEPS = flags.DEFINE_integer('raise_after_steps', 30, 'Steps before the faulty environments raise.')


class RaisingEnvironment(wrapper.EnvironmentWrapper):
  """Behaves like `environment` for `raise_after_steps` steps, then raises on every step."""

  def __init__(self, environment: dm_env.Environment, raise_after_steps: int):
    super().__init__(environment)
    self._steps_left = raise_after_steps

  def step(self, action):
    self._steps_left -= 1
    if self._steps_left < 0:
      raise RuntimeError('injected environment failure')
    return self._environment.step(action)


@dataclasses.dataclass(frozen=True)
class FaultyFactory:
  """Environments whose seed is in `faulty_seeds` raise after `raise_after_steps` steps."""
  environment_id: str
  faulty_seeds: frozenset
  raise_after_steps: int

  def __call__(self, seed: int) -> dm_env.Environment:
    environment = make_environment(self.environment_id, seed=seed)
    if seed in self.faulty_seeds:
      return RaisingEnvironment(environment, self.raise_after_steps)
    return environment


def main(argv):
  del argv
  config, factory, settings, launch_type = local.settings_from_flags()
  first_actor_seeds = frozenset(actor_node.actor_environment_seeds(
      program_lib.worker_seed(settings.seed, 0), restarts=0, count=config.envs_per_actor))
  faulty = FaultyFactory(factory.environment_id, first_actor_seeds, _RAISE_AFTER_STEPS.value)
  local.exit_now(local.run(config, faulty, settings, launch_type, f'{factory.environment_id} (faulty actor 0)'))


if __name__ == '__main__':
  app.run(main)
