"""Two-player zero-sum perfect-information board games from OpenSpiel as a dm_env.

Point of view (the search and the value targets rely on it):
- `reward` of a step is the reward of the player who made that move (+1 for a winning move,
  0 for a draw or a move that does not end the game). The opponent's reward is its negation;
  `player_returns()` gives both players' returns.
- `observation['board']` is OpenSpiel's observation tensor for the player to move, as [H, W, C]
  planes (channels last); games whose tensor is not 3-D give a flat vector.
- `observation['to_play']` is the player to move (0 or 1). At the end of the game, where nobody
  moves, it is the player who would have moved next, so it still alternates.
- `observation['legal_actions']` is a 0/1 float mask over the game's distinct actions; all zeros at
  the end of the game.
Terminal steps have discount 0; every other step has discount 1. An illegal action raises
`ValueError` and leaves the game untouched.
"""

import difflib
from typing import Dict

import dm_env
import numpy as np
import pyspiel
from dm_env import specs

from environments import specs as environment_specs


def load_two_player_game(name: str) -> pyspiel.Game:
  """Loads `name` (e.g. 'tic_tac_toe', 'go(board_size=9)') and checks that MuZero can play it."""
  try:
    game = pyspiel.load_game(name)
  except pyspiel.SpielError as error:
    base = name.split('(')[0]
    close = difflib.get_close_matches(base, pyspiel.registered_names(), n=3)
    hint = f' Did you mean {", ".join(close)}?' if close else ''
    raise ValueError(f'unknown OpenSpiel game {name!r}; allowed: a game of pyspiel.registered_names() '
                     f'that is two-player, zero-sum, sequential and deterministic.{hint}') from error
  game_type = game.get_type()
  problems = []
  if game.num_players() != 2:
    problems.append(f'{game.num_players()} players')
  if game_type.utility != pyspiel.GameType.Utility.ZERO_SUM:
    problems.append(f'utility {game_type.utility.name}')
  if game_type.dynamics != pyspiel.GameType.Dynamics.SEQUENTIAL:
    problems.append(f'dynamics {game_type.dynamics.name}')
  if game_type.information != pyspiel.GameType.Information.PERFECT_INFORMATION:
    problems.append(f'information {game_type.information.name}')
  if game_type.chance_mode != pyspiel.GameType.ChanceMode.DETERMINISTIC:
    problems.append(f'chance mode {game_type.chance_mode.name}')
  if problems:
    raise ValueError(f'OpenSpiel game {name!r} has {", ".join(problems)}; allowed: two-player, ZERO_SUM, '
                     'SEQUENTIAL, PERFECT_INFORMATION, DETERMINISTIC games (e.g. tic_tac_toe, '
                     'connect_four, go(board_size=9), chess).')
  return game


class OpenSpielEnvironment(environment_specs.DiscreteActionSpecs, dm_env.Environment):
  """One game of a two-player zero-sum board game; see the module docstring for the conventions."""

  def __init__(self, game: pyspiel.Game):
    self._game = game
    self._num_actions = game.num_distinct_actions()
    shape = tuple(game.observation_tensor_shape())
    self._board_shape = (shape[1], shape[2], shape[0]) if len(shape) == 3 else (int(np.prod(shape)),)
    self._state = None
    self._to_play = 0

  @property
  def game(self) -> pyspiel.Game:
    return self._game

  @property
  def state(self) -> pyspiel.State:
    """The live OpenSpiel state (read it; changing it bypasses the checks of `step`)."""
    return self._state

  def reset(self) -> dm_env.TimeStep:
    self._state = self._game.new_initial_state()
    self._to_play = self._state.current_player()
    return dm_env.restart(self._observation())

  def step(self, action) -> dm_env.TimeStep:
    if self._state is None or self._state.is_terminal():
      return self.reset()
    action = int(action)
    legal = self._state.legal_actions()
    if action not in legal:
      raise ValueError(f'action {action} is illegal for player {self._to_play} in this position; '
                       f'allowed: {legal}.')
    mover = self._to_play
    self._state.apply_action(action)
    reward = np.float32(self._state.rewards()[mover])
    if self._state.is_terminal():
      self._to_play = 1 - mover
      return dm_env.TimeStep(dm_env.StepType.LAST, reward, np.float32(0.0), self._observation())
    self._to_play = self._state.current_player()
    return dm_env.transition(reward, self._observation(), discount=np.float32(1.0))

  def player_returns(self) -> np.ndarray:
    """Both players' returns so far, [2] float32 (zero-sum: they add up to 0)."""
    return np.asarray(self._state.returns(), np.float32)

  def _observation(self) -> Dict[str, np.ndarray]:
    board = np.asarray(self._state.observation_tensor(self._to_play), np.float32)
    if len(self._board_shape) == 3:
      height, width, channels = self._board_shape
      board = board.reshape(channels, height, width).transpose(1, 2, 0)
    mask = np.zeros((self._num_actions,), np.float32)
    if not self._state.is_terminal():
      mask[self._state.legal_actions()] = 1.0
    return {environment_specs.BOARD: board, environment_specs.LEGAL_ACTIONS: mask,
            environment_specs.TO_PLAY: np.int32(self._to_play)}

  def observation_spec(self) -> Dict[str, specs.Array]:
    board, legal, to_play = (environment_specs.BOARD, environment_specs.LEGAL_ACTIONS,
                             environment_specs.TO_PLAY)
    return {
        board: specs.Array(self._board_shape, np.float32, name=board),
        legal: specs.BoundedArray((self._num_actions,), np.float32, 0.0, 1.0, name=legal),
        to_play: specs.BoundedArray((), np.int32, 0, 1, name=to_play),
    }
