"""Plays a few uniformly random episodes of any environment id and prints their returns.

A quick check that an id works on this machine: `python -m environments --env=atari:Pong`.
"""

import time

import numpy as np
from absl import app
from absl import flags
from dm_env import specs

from environments import make_environment
from environments import specs as environment_specs

_ENV = flags.DEFINE_string('env', 'gym:CartPole-v1', 'Environment id, e.g. gym:CartPole-v1, atari:Pong, openspiel:tic_tac_toe.')
_EPISODES = flags.DEFINE_integer('episodes', 3, 'Number of episodes to play.', lower_bound=1)
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of the environment and of the random policy.')


def main(_):
  environment = make_environment(_ENV.value, seed=_SEED.value)
  rng = np.random.default_rng(_SEED.value)
  action_spec = environment.action_spec()
  for episode in range(_EPISODES.value):
    start, steps, episode_return = time.time(), 0, 0.0
    timestep = environment.reset()
    while not timestep.last():
      observation = timestep.observation
      mask = environment_specs.legal_actions(observation)
      if mask is not None:  # Board games: legal moves only.
        action = rng.choice(np.flatnonzero(mask))
      elif isinstance(action_spec, specs.DiscreteArray):
        action = rng.integers(action_spec.num_values)
      else:  # Continuous: uniform within the bounds.
        action = rng.uniform(action_spec.minimum, action_spec.maximum).astype(action_spec.dtype)
      timestep = environment.step(action)
      steps += 1
      episode_return += float(timestep.reward)
    print(f'{_ENV.value} random policy: episode {episode} return {episode_return:g} '
          f'length {steps} ({steps / (time.time() - start):.0f} steps/s)')


if __name__ == '__main__':
  app.run(main)
