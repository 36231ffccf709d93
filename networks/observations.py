"""What the network sees of an observation, shared by actors and the learner so that they agree.

Observations arrive in three layouts (DESIGN.md section 5):
  - gymnasium vectors: a float32 [D] array;
  - Atari: a dict with 'frames' (a uint8 [96, 96, frames * channels] image, scaled here to
    [0, 1]) and 'past_actions' (int [N], oldest first), which join the frames as N constant
    planes a / num_actions (the paper's encoding, Appendix F); or the bare uint8 image;
  - OpenSpiel board games: a dict with 'board' (float32 planes [H, W, C]), 'legal_actions' and
    'to_play'. The network sees the board plus one constant plane holding `to_play`, because the
    value it predicts is for the player to move while OpenSpiel's planes are not always drawn
    from that player's side. 'legal_actions' is for the search, not the network.
"""

import collections.abc
from typing import Mapping, Optional, Tuple, Union

import numpy as np
import tensorflow as tf
from dm_env import specs

from networks import action_encoding

# A two-player game's observation entries, named in `environments.specs` (BOARD, TO_PLAY), which
# this package may not import; tests/networks/test_observations.py keeps the names equal.
BOARD_KEY = 'board'
TO_PLAY_KEY = 'to_play'
FRAMES_KEY = 'frames'
PAST_ACTIONS_KEY = 'past_actions'

# One observation's spec: an array, or a dict of arrays for board games.
ObservationSpec = Union[specs.Array, Mapping[str, specs.Array]]
# A batch of observations, batch first, with the structure of an ObservationSpec.
Observation = Union[tf.Tensor, np.ndarray, Mapping[str, Union[tf.Tensor, np.ndarray]]]


def network_input(observation: Observation, num_actions: Optional[int] = None) -> tf.Tensor:
  """Batched observation (array or dict of arrays, batch first) -> float32 network input.

  Dicts are recognised as `collections.abc.Mapping`, not `typing.Mapping`: the latter rejects the
  `_DictWrapper` that a tf.Module makes of a dict it stores.

  Args:
    observation: a batch in one of the layouts of the module docstring.
    num_actions: A, the scale of past-action planes (a / A keeps them in [0, 1] like the frames);
      required when the observation carries 'past_actions', unused otherwise.

  Returns:
    [B, D] for vectors, [B, H, W, C] in [0, 1] for uint8 images, [B, H, W, C + N] for Atari
    dicts with N past actions and [B, H, W, C + 1] for board-game dicts that carry 'to_play'
    ([B, H, W, C] when they do not). The function is idempotent (its float32 output passes
    through unchanged), so `initial_inference` accepts raw observations and network inputs alike.
  """
  if isinstance(observation, collections.abc.Mapping):
    if FRAMES_KEY in observation:
      return _frames_input(observation, num_actions)
    board = tf.cast(observation[BOARD_KEY], tf.float32)
    if TO_PLAY_KEY not in observation:
      return board
    to_play = tf.cast(observation[TO_PLAY_KEY], tf.float32)[:, None, None, None]
    return tf.concat([board, tf.ones_like(board[..., :1]) * to_play], axis=-1)
  return _array_input(observation)


def _array_input(observation: Union[tf.Tensor, np.ndarray]) -> tf.Tensor:
  """uint8 images scaled to [0, 1]; anything else cast to float32."""
  observation = tf.convert_to_tensor(observation)
  if observation.dtype == tf.uint8:
    return tf.cast(observation, tf.float32) / 255.0
  return tf.cast(observation, tf.float32)


def _frames_input(observation: Mapping[str, Union[tf.Tensor, np.ndarray]],
                  num_actions: Optional[int]) -> tf.Tensor:
  """Atari dict -> the scaled frames followed by one plane per past action, oldest first."""
  frames = _array_input(observation[FRAMES_KEY])
  if PAST_ACTIONS_KEY not in observation:
    return frames
  if num_actions is None:
    raise ValueError(f'observations with {PAST_ACTIONS_KEY!r} need num_actions, the scale of '
                     'their planes a / num_actions; pass the network\'s num_actions.')
  return action_encoding.concat_scaled_planes(frames, observation[PAST_ACTIONS_KEY], num_actions)


def network_input_shape(observation_spec: ObservationSpec) -> Tuple[int, ...]:
  """The per-sample shape `network_input` returns for observations matching `observation_spec`."""
  if isinstance(observation_spec, collections.abc.Mapping):
    if FRAMES_KEY in observation_spec:
      height, width, channels = _image_shape(FRAMES_KEY, observation_spec[FRAMES_KEY])
      past_actions = observation_spec.get(PAST_ACTIONS_KEY)
      if past_actions is not None and len(past_actions.shape) != 1:
        raise ValueError(f'{PAST_ACTIONS_KEY!r} observation spec {past_actions} must be a vector '
                         '[N] of actions.')
      return (height, width, channels + (past_actions.shape[0] if past_actions is not None else 0))
    if BOARD_KEY not in observation_spec:
      raise ValueError(f'dict observation spec with keys {sorted(observation_spec)} has no '
                       f'{BOARD_KEY!r} or {FRAMES_KEY!r} entry; the network reads dict observations '
                       'of board games and of Atari only.')
    height, width, channels = _image_shape(BOARD_KEY, observation_spec[BOARD_KEY])
    return (height, width, channels + int(TO_PLAY_KEY in observation_spec))
  return tuple(observation_spec.shape)


def infer_torso(observation_spec: ObservationSpec) -> str:
  """The torso that suits `observation_spec`: 'mlp', 'resnet' or 'board' (see NetworkConfig.torso)."""
  if isinstance(observation_spec, collections.abc.Mapping):
    network_input_shape(observation_spec)  # Validates the image entry.
    if FRAMES_KEY in observation_spec:
      return infer_torso(observation_spec[FRAMES_KEY])
    return 'board'
  rank = len(observation_spec.shape)
  if rank in (1, 2):
    return 'mlp'  # It flattens its input: a [4, 3] observation reads as 12 features.
  if rank == 3:
    return 'resnet' if np.dtype(observation_spec.dtype) == np.uint8 else 'board'
  raise ValueError(f'observation spec {observation_spec} has rank {rank}; the networks take rank-1 '
                   'or rank-2 vectors, rank-3 [H, W, C] images or boards, or dicts with a rank-3 '
                   f'{BOARD_KEY!r} entry.')


def dummy_observation(observation_spec: ObservationSpec, batch_size: int = 1) -> Observation:
  """Zeros with the structure, dtypes and shapes of `observation_spec`, batch first."""
  return tf.nest.map_structure(
      lambda spec: tf.zeros((batch_size,) + tuple(spec.shape), spec.dtype), observation_spec)


def _image_shape(key: str, spec: specs.Array) -> Tuple[int, int, int]:
  if len(spec.shape) != 3:
    raise ValueError(f'{key!r} observation spec {spec} must be [H, W, C] planes.')
  return tuple(spec.shape)
