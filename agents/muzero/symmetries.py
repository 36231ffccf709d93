"""Board symmetries as data augmentation: each training item seen in a random symmetric copy.

AlphaGo Zero trained on Go positions rotated and reflected at random (the 8 symmetries of the
square; Silver et al. 2017, "Mastering the game of Go without human knowledge", Methods);
AlphaZero and MuZero left it out so as to treat chess and shogi alike. On small boards it is
cheap data: a line of tic-tac-toe learned in one orientation is learned in all eight.

A symmetry g maps a position to one the game treats alike, and every move with it. It is given
as two gather indices:
  - cells [G, H W]: cell j of the transformed board is cell `cells[g, j]` of the original
    (cells counted row-major, H x W the board's planes);
  - actions [G, A]: entry b of a transformed policy (or legal-action mask) is entry
    `actions[g, b]` of the original; the transformed action of a is `inverse[g, a]`.
Kinds (`MuZeroConfig.board_symmetries`):
  - 'dihedral': the 8 rotations and reflections of a square board whose first H W actions
    are moves to its cells, row-major, like the planes (tic-tac-toe, Go); later actions (Go's
    pass) stay as they are.
  - 'mirror': the left-right reflection, of a board whose actions are its W columns (connect
    four) or its cells as above.
Whether a game's actions really follow its planes is a fact of the game, not of its spec:
`check_game` plays random games move for move beside their images under every symmetry and fails
on the first position where they disagree.
"""

import collections.abc
from typing import Any, Dict, Optional, Sequence

import numpy as np
import tensorflow as tf

from agents.muzero.config import BOARD_SYMMETRIES as KINDS
from environments import specs as environment_specs


class BoardSymmetries:
  """A group of G board symmetries, applied to replay items (see the module docstring)."""

  def __init__(self, kind: str, board_shape: Sequence[int], num_actions: int):
    """Makes the symmetries of `kind` for boards of planes [H, W, C] and `num_actions` actions.

    Raises:
      ValueError: `kind` is not one of KINDS but 'none', or the board and actions do not fit it.
    """
    if kind not in KINDS[1:]:
      raise ValueError(f'board_symmetries={kind!r} is not allowed here; allowed: '
                       f'{KINDS[1:]} (or \'none\' for no augmentation).')
    if len(board_shape) != 3:
      raise ValueError(f'board_symmetries={kind!r} needs board planes [H, W, C]; the '
                       f'{environment_specs.BOARD!r} observation has shape {tuple(board_shape)}.')
    height, width = int(board_shape[0]), int(board_shape[1])
    grid = np.arange(height * width).reshape(height, width)
    if kind == 'dihedral':
      if height != width:
        raise ValueError(f"board_symmetries='dihedral' needs a square board; this one is "
                         f'{height} x {width} (allowed for it: \'mirror\' or \'none\').')
      grids = [np.rot90(grid, turns) for turns in range(4)]
      grids += [np.fliplr(rotated) for rotated in grids]
    else:
      grids = [grid, np.fliplr(grid)]
    self.kind = kind
    self.cells = np.stack([g.reshape(-1) for g in grids]).astype(np.int32)
    if num_actions == width and kind == 'mirror':
      self.actions = np.stack([g[0] for g in grids]).astype(np.int32)
    elif num_actions >= height * width:
      extra = np.arange(height * width, num_actions)
      self.actions = np.stack([np.concatenate([cells, extra]) for cells in self.cells]
                              ).astype(np.int32)
    else:
      allowed = 'W (columns) or at least H W (cells first)' if kind == 'mirror' else (
          'at least H W (cells first)')
      raise ValueError(f'board_symmetries={kind!r} does not fit {num_actions} actions on a '
                       f'{height} x {width} board; allowed: {allowed} actions.')
    self.inverse = np.argsort(self.actions, axis=1).astype(np.int32)

  @property
  def size(self) -> int:
    """G, the number of symmetries, the identity first."""
    return self.cells.shape[0]

  def transform_board(self, board: tf.Tensor, which: tf.Tensor) -> tf.Tensor:
    """Board planes [B, R, H, W, C] with item b seen through symmetry `which[b]`."""
    shape = tf.shape(board)
    flat = tf.reshape(board, tf.concat([shape[:2], [-1], shape[4:]], axis=0))
    moved = tf.gather(flat, tf.gather(self.cells, which), axis=2, batch_dims=1)
    return tf.reshape(moved, shape)

  def transform_policy(self, values: tf.Tensor, which: tf.Tensor) -> tf.Tensor:
    """Per-action values [B, R, A] (policies, legal masks) through symmetry `which[b]`."""
    return tf.gather(values, tf.gather(self.actions, which), axis=2, batch_dims=1)

  def transform_actions(self, actions: tf.Tensor, which: tf.Tensor) -> tf.Tensor:
    """Actions [B, K] through symmetry `which[b]`."""
    return tf.gather(tf.gather(self.inverse, which), actions, axis=1, batch_dims=1)

  def _transform_observation(self, observation: Dict[str, tf.Tensor], which: tf.Tensor):
    moved = dict(observation)
    moved[environment_specs.BOARD] = self.transform_board(
        observation[environment_specs.BOARD], which)
    legal = environment_specs.legal_actions(observation)
    if legal is not None:
      moved[environment_specs.LEGAL_ACTIONS] = self.transform_policy(legal, which)
    return moved

  def augment(self, data: Dict[str, Any], seed: tf.Tensor) -> Dict[str, Any]:
    """A batch of replay items (`agents.muzero.replay`), each through a symmetry drawn
    uniformly from `seed` (a stateless seed [2]); values, rewards and flags stay."""
    batch_size = tf.shape(data['action'])[0]
    which = tf.random.stateless_uniform([batch_size], seed=seed, maxval=self.size,
                                        dtype=tf.int32)
    augmented = dict(data)
    for name in ('observation', 'bootstrap_observation'):
      if name in data:
        augmented[name] = self._transform_observation(data[name], which)
    augmented['action'] = self.transform_actions(data['action'], which)
    augmented['search_policy'] = self.transform_policy(data['search_policy'], which)
    return augmented


def from_spec(kind: str, environment_spec) -> Optional[BoardSymmetries]:
  """The symmetries of `kind` for an `acme.specs.EnvironmentSpec`, None for 'none'.

  Raises:
    ValueError: `kind` is not one of KINDS, the actions are not discrete, or the observations
      have no board planes that fit.
  """
  if kind == 'none':
    return None
  if kind not in KINDS:
    raise ValueError(f'MuZeroConfig.board_symmetries={kind!r} is not allowed; allowed: {KINDS}.')
  observations, actions = environment_spec.observations, environment_spec.actions
  if (not isinstance(observations, collections.abc.Mapping)
      or environment_specs.BOARD not in observations):
    raise ValueError(f'MuZeroConfig.board_symmetries={kind!r} needs observations with a '
                     f'{environment_specs.BOARD!r} entry of board planes (as OpenSpiel games have '
                     "here); this environment has none, so use 'none'.")
  if not hasattr(actions, 'num_values'):
    raise ValueError(f'MuZeroConfig.board_symmetries={kind!r} needs discrete actions; this '
                     f"environment's actions are {actions}, so use 'none'.")
  return BoardSymmetries(kind, observations[environment_specs.BOARD].shape,
                         int(actions.num_values))


def check_game(symmetries: BoardSymmetries, game, num_games: int = 4, seed: int = 0):
  """Plays `num_games` random games of the pyspiel `game` beside their images under every
  symmetry and checks that each position's planes and legal moves are the image of the
  original's.

  Raises:
    ValueError: naming the game, the symmetry and the move where they disagree: the game's
      actions do not follow its planes as `symmetries.kind` assumes.
  """
  channels = game.observation_tensor_shape()[0]
  # Planes [C, H W], cells row-major as in the observations, and the legal-move mask.
  planes = lambda state: np.asarray(state.observation_tensor(0)).reshape(channels, -1)
  legal = lambda state: np.asarray(state.legal_actions_mask(), np.float32)
  rng = np.random.default_rng(seed)
  for _ in range(num_games):
    states = [game.new_initial_state() for _ in range(symmetries.size)]
    for move in range(game.max_game_length()):
      original = states[0]
      for g, state in enumerate(states):
        if (state.is_terminal() != original.is_terminal()
            or not np.array_equal(planes(state), planes(original)[:, symmetries.cells[g]])
            or not np.array_equal(legal(state), legal(original)[symmetries.actions[g]])):
          raise ValueError(f'{game} does not have board_symmetries={symmetries.kind!r}: after '
                           f'{move} moves, symmetry {g} of the position is not the position its '
                           'moves reach; its actions do not follow its board planes.')
      if original.is_terminal():
        break
      action = int(rng.choice(original.legal_actions()))
      for g, state in enumerate(states):
        state.apply_action(int(symmetries.inverse[g, action]))
