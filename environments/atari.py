"""Atari through ale-py with the preprocessing of the MuZero paper (Appendix F / DESIGN.md section 5).

Sticky actions (repeat probability 0.25, as gymnasium's v5 environments) supply the
stochasticity, so there are no no-op starts. Frames are max-pooled over the last two of each
group of 4 skipped frames, resized to 96x96, optionally grayscale, and stacked along the channel
axis into one [96, 96, frame_stack * channels] uint8 image, newest frame last.

The paper's network also sees the actions that led to those frames (Appendix F: 32 frames and 32
past actions, the actions as constant planes a / A). Observations therefore carry the last
`num_past_actions` actions next to the frames, {'frames': uint8 [96, 96, C], 'past_actions': int32
[N]}, oldest first, so that replay stores them with the frames and the actor, the learner and the
search read them like any other part of the observation. They are the actions the agent chose:
sticky actions may have repeated an older one in the emulator, which the agent cannot know. At
the start of an episode the past actions are all 0 (NOOP in every ALE game's action set except
Backgammon's and VideoCheckers', where 0 is FIRE), while the frame stack starts filled with the
first frame (gymnasium's default padding). The defaults, 4 frames and 4 past actions, fit these
2-core machines; `frame_stack` and `num_past_actions` set them (`num_past_actions=0` gives the
bare uint8 image as observation).
"""

import difflib
from typing import Dict, Optional

import ale_py  # noqa: F401  (registers the ALE/* ids with gymnasium on import)
import dm_env
import gymnasium
import numpy as np
from dm_env import specs
from gymnasium import wrappers

from environments import gym_environment
from environments import wrapper

SCREEN_SIZE = 96
FRAME_SKIP = 4
STICKY_ACTION_PROBABILITY = 0.25
FRAMES_KEY = 'frames'
PAST_ACTIONS_KEY = 'past_actions'


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


class PastActions(wrapper.EnvironmentWrapper):
  """Adds the last `num_past_actions` actions, oldest first, to the observations of `environment`.

  Observations become {'frames': the wrapped observation, 'past_actions': int32 [N]}; the past
  actions are zeros after every reset (see the module docstring).
  """

  def __init__(self, environment: dm_env.Environment, num_past_actions: int):
    if num_past_actions < 1:
      raise ValueError(f'num_past_actions={num_past_actions} is not allowed; it must be >= 1 '
                       '(leave the environment unwrapped for none).')
    super().__init__(environment)
    self._past_actions = np.zeros(num_past_actions, np.int32)
    action_spec = environment.action_spec()
    self._observation_spec = {
        FRAMES_KEY: environment.observation_spec().replace(name=FRAMES_KEY),
        PAST_ACTIONS_KEY: specs.BoundedArray((num_past_actions,), np.int32, 0,
                                             action_spec.num_values - 1, name=PAST_ACTIONS_KEY),
    }

  def reset(self) -> dm_env.TimeStep:
    self._past_actions[:] = 0
    return self._with_past_actions(self._environment.reset())

  def step(self, action: int) -> dm_env.TimeStep:
    timestep = self._environment.step(action)
    if timestep.first():
      # The wrapped environment started a new episode instead of taking `action`.
      self._past_actions[:] = 0
    else:
      self._past_actions[:-1] = self._past_actions[1:]
      self._past_actions[-1] = int(action)
    return self._with_past_actions(timestep)

  def _with_past_actions(self, timestep: dm_env.TimeStep) -> dm_env.TimeStep:
    return timestep._replace(observation={FRAMES_KEY: timestep.observation,
                                          PAST_ACTIONS_KEY: self._past_actions.copy()})

  def observation_spec(self) -> Dict[str, specs.Array]:
    return self._observation_spec


def make_atari(game: str, seed: Optional[int] = None, grayscale: bool = True, frame_stack: int = 4,
               num_past_actions: int = 4, full_action_space: bool = False,
               sticky_action_probability: float = STICKY_ACTION_PROBABILITY) -> dm_env.Environment:
  """Makes a preprocessed Atari game, e.g. `make_atari('Pong', seed=0)`.

  The observation is {'frames', 'past_actions'} when `num_past_actions` > 0 (the default), the
  bare frame stack when it is 0; see the module docstring.
  """
  known = game_ids()
  if game not in known:
    close = difflib.get_close_matches(game, known, n=3)
    hint = f' Did you mean {", ".join(close)}?' if close else ''
    raise ValueError(f'unknown Atari game {game!r}; allowed: one of the {len(known)} ALE games, '
                     f'e.g. Pong, Breakout, MsPacman.{hint}')
  if not isinstance(frame_stack, int) or frame_stack < 1:
    raise ValueError(f'frame_stack={frame_stack!r} is not allowed; it must be an int >= 1.')
  if isinstance(num_past_actions, bool) or not isinstance(num_past_actions, int) or num_past_actions < 0:
    raise ValueError(f'num_past_actions={num_past_actions!r} is not allowed; it must be an int >= 0.')
  if not 0.0 <= sticky_action_probability <= 1.0:
    raise ValueError(f'sticky_action_probability={sticky_action_probability} must be in [0, 1].')
  environment = gymnasium.make(f'ALE/{game}-v5', frameskip=1, full_action_space=full_action_space,
                               repeat_action_probability=sticky_action_probability)
  environment = wrappers.AtariPreprocessing(environment, noop_max=0, frame_skip=FRAME_SKIP,
                                            screen_size=SCREEN_SIZE, grayscale_obs=grayscale)
  environment = wrappers.FrameStackObservation(environment, frame_stack)
  frames = gym_environment.GymnasiumEnvironment(_ChannelsLast(environment), seed=seed)
  return PastActions(frames, num_past_actions) if num_past_actions else frames
