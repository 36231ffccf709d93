"""Atari through ale-py with the preprocessing of the MuZero paper (Appendix F / DESIGN.md section 5).

Sticky actions (repeat probability 0.25, as gymnasium's v5 environments) supply the
stochasticity, so there are no no-op starts. Frames are max-pooled over the last two of each
group of 4 skipped frames, resized to 96x96, optionally grayscale, and stacked along the channel
axis so that the network sees one [96, 96, frame_stack * channels] uint8 image, newest frame last.
The paper stacks 32 frames (and 32 past actions, which the network adds as planes); the default
here is 4 frames, which fits these 2-core machines, and `frame_stack` sets it.
"""

import difflib
from typing import Optional

import ale_py  # noqa: F401  (registers the ALE/* ids with gymnasium on import)
import gymnasium
import numpy as np
from gymnasium import wrappers

from environments import gym_environment

SCREEN_SIZE = 96
FRAME_SKIP = 4
STICKY_ACTION_PROBABILITY = 0.25


def game_ids() -> list:
  """Every Atari game name accepted after `atari:` (e.g. 'Pong', 'MsPacman')."""
  return sorted(k[len('ALE/'):-len('-v5')] for k in gymnasium.registry if k.startswith('ALE/') and k.endswith('-v5'))


class _ChannelsLast(gymnasium.ObservationWrapper):
  """[stack, H, W(, 3)] -> [H, W, stack * channels], the layout TensorFlow's CPU convolutions want."""

  def __init__(self, environment: gymnasium.Env):
    super().__init__(environment)
    stack, height, width = environment.observation_space.shape[:3]
    channels = environment.observation_space.shape[3] if len(environment.observation_space.shape) == 4 else 1
    self.observation_space = gymnasium.spaces.Box(0, 255, (height, width, stack * channels), np.uint8)

  def observation(self, observation):
    frames = np.asarray(observation)
    if frames.ndim == 3:
      frames = frames[..., None]
    stack, height, width, channels = frames.shape
    return frames.transpose(1, 2, 0, 3).reshape(height, width, stack * channels)


def make_atari(game: str, seed: Optional[int] = None, grayscale: bool = True, frame_stack: int = 4,
               full_action_space: bool = False,
               sticky_action_probability: float = STICKY_ACTION_PROBABILITY) -> gym_environment.GymnasiumEnvironment:
  """Makes a preprocessed Atari game, e.g. `make_atari('Pong', seed=0)`."""
  known = game_ids()
  if game not in known:
    close = difflib.get_close_matches(game, known, n=3)
    hint = f' Did you mean {", ".join(close)}?' if close else ''
    raise ValueError(f'unknown Atari game {game!r}; allowed: one of the {len(known)} ALE games, '
                     f'e.g. Pong, Breakout, MsPacman.{hint}')
  if not isinstance(frame_stack, int) or frame_stack < 1:
    raise ValueError(f'frame_stack={frame_stack!r} is not allowed; it must be an int >= 1.')
  if not 0.0 <= sticky_action_probability <= 1.0:
    raise ValueError(f'sticky_action_probability={sticky_action_probability} must be in [0, 1].')
  environment = gymnasium.make(f'ALE/{game}-v5', frameskip=1, full_action_space=full_action_space,
                               repeat_action_probability=sticky_action_probability)
  environment = wrappers.AtariPreprocessing(environment, noop_max=0, frame_skip=FRAME_SKIP,
                                            screen_size=SCREEN_SIZE, grayscale_obs=grayscale)
  environment = wrappers.FrameStackObservation(environment, frame_stack)
  return gym_environment.GymnasiumEnvironment(_ChannelsLast(environment), seed=seed)
