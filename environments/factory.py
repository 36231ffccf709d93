"""One entry point from an id string to a dm_env environment.

Ids are `prefix:name`:
- `gym:CartPole-v1`: any gymnasium id with a Discrete action space (keyword arguments go to
  `gymnasium.make`);
- `atari:Pong`: an ALE game with the paper's preprocessing (keyword arguments go to
  `environments.atari.make_atari`);
- `openspiel:tic_tac_toe`, `openspiel:go(board_size=9)`: a two-player zero-sum board game.
"""

import difflib
import numbers
from typing import Optional

import dm_env
import gymnasium

from environments import atari
from environments import gym_environment
from environments import openspiel

PREFIXES = ('gym', 'atari', 'openspiel')


def make_environment(environment_id: str, seed: Optional[int] = None, **kwargs) -> dm_env.Environment:
  """Makes the environment named by `environment_id`; see the module docstring for the forms."""
  if not isinstance(environment_id, str) or ':' not in environment_id:
    raise ValueError(f'environment id {environment_id!r} is not of the form prefix:name; allowed prefixes: '
                     f'{", ".join(PREFIXES)} (e.g. gym:CartPole-v1, atari:Pong, openspiel:tic_tac_toe).')
  if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
    raise TypeError(f'seed {seed!r} ({type(seed).__name__}) is not allowed; it must be an int or None.')
  seed = None if seed is None else int(seed)
  prefix, name = environment_id.split(':', 1)
  if prefix == 'gym':
    return _make_gym(name, seed, **kwargs)
  if prefix == 'atari':
    return atari.make_atari(name, seed=seed, **kwargs)
  if prefix == 'openspiel':
    if kwargs:
      raise ValueError(f'openspiel takes no keyword arguments (got {sorted(kwargs)}); put game parameters '
                       'in the id, e.g. openspiel:go(board_size=9).')
    # These games are deterministic: the seed has nothing to reach, and is accepted for uniformity.
    return openspiel.OpenSpielEnvironment(openspiel.load_two_player_game(name))
  raise ValueError(f'unknown environment prefix {prefix!r} in {environment_id!r}; allowed: {", ".join(PREFIXES)}.')


def _make_gym(name: str, seed: Optional[int], **kwargs) -> gym_environment.GymnasiumEnvironment:
  try:
    environment = gymnasium.make(name, **kwargs)
  except gymnasium.error.Error as error:
    close = difflib.get_close_matches(name, list(gymnasium.registry), n=3)
    hint = f' Did you mean {", ".join(close)}?' if close else ''
    raise ValueError(f'unknown gymnasium id {name!r} ({error}); allowed: a registered id with a Discrete '
                     f'action space, e.g. CartPole-v1, Acrobot-v1, MountainCar-v0.{hint}') from error
  return gym_environment.GymnasiumEnvironment(environment, seed=seed)
