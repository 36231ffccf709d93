"""One entry point from an id string to a dm_env environment.

Ids are `prefix:name`:
- `gym:CartPole-v1`, `gym:Pendulum-v1`: any gymnasium id with a Discrete action space or a
  bounded one-dimensional Box one (continuous control; MuJoCo tasks such as
  `gym:InvertedPendulum-v5` through the `mujoco` package), keyword arguments going to
  `gymnasium.make`;
- `atari:Pong`: an ALE game with the paper's preprocessing (keyword arguments go to
  `environments.atari.make_atari`);
- `openspiel:tic_tac_toe`, `openspiel:go(board_size=9)`: a two-player zero-sum board game;
- `python:package.module:factory`: the user's own environment, made by calling
  `factory(seed, **kwargs)` from the importable `package.module`; it must return a
  `dm_env.Environment` with discrete actions or a bounded vector of continuous ones (any dtypes: the agent normalises them, `agents.muzero.canonical`). The
  factory is named, not passed, so the id alone rebuilds it in every process of a distributed
  program.
"""

import difflib
import importlib
import numbers
from typing import Optional

import dm_env
import gymnasium

from environments import atari
from environments import gym_environment
from environments import openspiel

PREFIXES = ('gym', 'atari', 'openspiel', 'python')
PYTHON_FORM = 'python:package.module:factory (e.g. python:my_project.envs:make_maze)'


def make_environment(environment_id: str, seed: Optional[int] = None, **kwargs) -> dm_env.Environment:
  """Makes the environment named by `environment_id`; see the module docstring for the forms."""
  if not isinstance(environment_id, str) or ':' not in environment_id:
    raise ValueError(f'environment id {environment_id!r} is not of the form prefix:name; allowed prefixes: '
                     f'{", ".join(PREFIXES)} (e.g. gym:CartPole-v1, atari:Pong, openspiel:tic_tac_toe, '
                     f'{PYTHON_FORM}).')
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
  if prefix == 'python':
    return _make_python(environment_id, name, seed, **kwargs)
  raise ValueError(f'unknown environment prefix {prefix!r} in {environment_id!r}; allowed: {", ".join(PREFIXES)}.')


def _make_gym(name: str, seed: Optional[int], **kwargs) -> gym_environment.GymnasiumEnvironment:
  try:
    environment = gymnasium.make(name, **kwargs)
  except gymnasium.error.DependencyNotInstalled as error:
    raise ValueError(f'gymnasium id {name!r} needs a package that is not installed ({error}); '
                     'the MuJoCo tasks need `mujoco` (pinned in requirements.txt).') from error
  except gymnasium.error.Error as error:
    close = difflib.get_close_matches(name, list(gymnasium.registry), n=3)
    hint = f' Did you mean {", ".join(close)}?' if close else ''
    raise ValueError(f'unknown gymnasium id {name!r} ({error}); allowed: a registered id with a Discrete '
                     f'or bounded Box action space, e.g. CartPole-v1, Acrobot-v1, Pendulum-v1.{hint}') from error
  return gym_environment.GymnasiumEnvironment(environment, seed=seed)


def _make_python(environment_id: str, name: str, seed: Optional[int], **kwargs) -> dm_env.Environment:
  """Imports `package.module:factory` (`name`) and returns `factory(seed, **kwargs)`."""
  module_name, _, factory_name = name.partition(':')
  if (not all(part.isidentifier() for part in module_name.split('.'))
      or not factory_name.isidentifier()):
    raise ValueError(f'environment id {environment_id!r} is not allowed; allowed: {PYTHON_FORM}, '
                     'a module importable from the working directory and a name in it.')
  try:
    module = importlib.import_module(module_name)
  except ImportError as error:
    raise ValueError(f'cannot import module {module_name!r} of environment id {environment_id!r} '
                     f'({error}); allowed: {PYTHON_FORM}, with the module importable from the '
                     'working directory or the Python path.') from error
  factory = getattr(module, factory_name, None)
  if not callable(factory):
    found = 'nothing' if factory is None else f'a {type(factory).__name__}'
    raise ValueError(f'environment id {environment_id!r}: module {module_name!r} has {found} named '
                     f'{factory_name!r}; allowed: a callable taking the seed and returning a '
                     'dm_env.Environment.')
  environment = factory(seed, **kwargs)
  if not isinstance(environment, dm_env.Environment):
    raise TypeError(f'environment id {environment_id!r}: {module_name}.{factory_name}({seed!r}) '
                    f'returned a {type(environment).__name__}; allowed: a dm_env.Environment.')
  return environment
