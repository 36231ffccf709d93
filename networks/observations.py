"""What the network sees of an observation, shared by actors and the learner so that they agree.

Observations arrive in three layouts (DESIGN.md section 5):
  - gymnasium vectors: a float32 [D] array;
  - Atari: a uint8 [96, 96, frames * channels] image, scaled here to [0, 1];
  - OpenSpiel board games: a dict with 'board' (float32 planes [H, W, C]), 'legal_actions' and
    'to_play'. The network sees the board plus one constant plane holding `to_play`, because the
    value it predicts is for the player to move while OpenSpiel's planes are not always drawn
    from that player's side. 'legal_actions' is for the search, not the network.
"""

import collections.abc
from typing import Mapping, Tuple, Union

import numpy as np
import tensorflow as tf
from dm_env import specs

BOARD_KEY = 'board'
TO_PLAY_KEY = 'to_play'

# One observation's spec: an array, or a dict of arrays for board games.
ObservationSpec = Union[specs.Array, Mapping[str, specs.Array]]
# A batch of observations, batch first, with the structure of an ObservationSpec.
Observation = Union[tf.Tensor, np.ndarray, Mapping[str, Union[tf.Tensor, np.ndarray]]]


def network_input(observation: Observation) -> tf.Tensor:
  """Batched observation (array or dict of arrays, batch first) -> float32 network input.

  Dicts are recognised as `collections.abc.Mapping`, not `typing.Mapping`: the latter rejects the
  `_DictWrapper` that a tf.Module makes of a dict it stores.

  Returns [B, D] for vectors, [B, H, W, C] in [0, 1] for uint8 images and [B, H, W, C + 1] for
  board-game dicts that carry 'to_play' ([B, H, W, C] when they do not). The function is
  idempotent (its float32 output passes through unchanged), so `initial_inference` accepts raw
  observations and network inputs alike.
  """
  if isinstance(observation, collections.abc.Mapping):
    board = tf.cast(observation[BOARD_KEY], tf.float32)
    if TO_PLAY_KEY not in observation:
      return board
    to_play = tf.cast(observation[TO_PLAY_KEY], tf.float32)[:, None, None, None]
    return tf.concat([board, tf.ones_like(board[..., :1]) * to_play], axis=-1)
  observation = tf.convert_to_tensor(observation)
  if observation.dtype == tf.uint8:
    return tf.cast(observation, tf.float32) / 255.0
  return tf.cast(observation, tf.float32)


def network_input_shape(observation_spec: ObservationSpec) -> Tuple[int, ...]:
  """The per-sample shape `network_input` returns for observations matching `observation_spec`."""
  if isinstance(observation_spec, collections.abc.Mapping):
    if BOARD_KEY not in observation_spec:
      raise ValueError(f'dict observation spec with keys {sorted(observation_spec)} has no '
                       f'{BOARD_KEY!r} entry; the network only reads dict observations of board games.')
    height, width, channels = _board_shape(observation_spec[BOARD_KEY])
    return (height, width, channels + int(TO_PLAY_KEY in observation_spec))
  return tuple(observation_spec.shape)


def infer_torso(observation_spec: ObservationSpec) -> str:
  """The torso that suits `observation_spec`: 'mlp', 'resnet' or 'board' (see NetworkConfig.torso)."""
  if isinstance(observation_spec, collections.abc.Mapping):
    network_input_shape(observation_spec)  # Validates the board entry.
    return 'board'
  rank = len(observation_spec.shape)
  if rank == 1:
    return 'mlp'
  if rank == 3:
    return 'resnet' if np.dtype(observation_spec.dtype) == np.uint8 else 'board'
  raise ValueError(f'observation spec {observation_spec} has rank {rank}; the networks take rank-1 '
                   'vectors, rank-3 [H, W, C] images or boards, or dicts with a rank-3 '
                   f'{BOARD_KEY!r} entry.')


def dummy_observation(observation_spec: ObservationSpec, batch_size: int = 1) -> Observation:
  """Zeros with the structure, dtypes and shapes of `observation_spec`, batch first."""
  return tf.nest.map_structure(
      lambda spec: tf.zeros((batch_size,) + tuple(spec.shape), spec.dtype), observation_spec)


def _board_shape(board_spec: specs.Array) -> Tuple[int, int, int]:
  if len(board_spec.shape) != 3:
    raise ValueError(f'board observation spec {board_spec} must be [H, W, C] planes.')
  return tuple(board_spec.shape)
