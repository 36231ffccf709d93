"""Fixed players for OpenSpiel board games, to measure a learning agent against.

Each player picks a move for a live `pyspiel.State` whose player to move is the player itself
(`choose_action(state) -> action`) and keeps no memory of the game, so one player can take part in
many games at once. Every player that draws random numbers owns a seeded generator: a match
against it is reproducible, and successive games of a match still differ.

- `RandomPlayer`: uniform over the legal moves; the weakest baseline.
- `MinimaxPlayer`: perfect play, from the exhaustive game-theoretic value of every position, for
  games small enough to solve (tic-tac-toe: 5,478 positions); an agent that never loses to it
  plays perfectly.
- `MCTSPlayer`: OpenSpiel's own `MCTSBot` with random rollouts, the usual reference opponent for
  games too large to solve (connect four).
"""

from typing import Dict, List, Protocol, Tuple

import numpy as np
import pyspiel
from open_spiel.python.algorithms import mcts

OPPONENTS = ('minimax', 'random', 'mcts')
# Minimax refuses games longer than this many moves or with more positions than this: solving
# them in Python would take minutes to forever (tic-tac-toe: 9 moves, 5,478 positions; connect
# four: 42 moves, about 4.5e12 positions; chess: 17,695 moves).
MAX_MINIMAX_MOVES = 64
MAX_MINIMAX_POSITIONS = 100_000


class Player(Protocol):
  """A fixed board-game player."""

  name: str

  def choose_action(self, state: pyspiel.State) -> int:
    """A legal action for `state`, whose player to move is this player."""


def _legal_actions(state: pyspiel.State) -> List[int]:
  """The legal actions of `state`; errors at the end of the game, where no one can move."""
  if state.is_terminal():
    raise ValueError(f'the game is over (returns {state.returns()}); a player moves only in a '
                     'position that is not terminal.')
  return state.legal_actions()


class RandomPlayer:
  """Plays uniformly at random among the legal moves."""

  def __init__(self, seed: int = 0):
    self.name = 'random'
    self._rng = np.random.default_rng(seed)

  def choose_action(self, state: pyspiel.State) -> int:
    return int(self._rng.choice(_legal_actions(state)))


class MinimaxPlayer:
  """Perfect play for small two-player zero-sum games, by exhaustive minimax.

  The whole game is solved once, when the player is made: every position reachable from the start
  gets its game-theoretic return for player 0 (player 1's is its negation). Positions are told
  apart by the player to move and `str(state)`, which is the whole board in OpenSpiel's small
  board games, so transpositions are solved once (tic-tac-toe has 5,478 positions but its game tree
  549,946 nodes). Among optimal moves the player picks uniformly at random, so that many games
  against it are not copies of one game.
  """

  def __init__(self, game: pyspiel.Game, seed: int = 0,
               max_positions: int = MAX_MINIMAX_POSITIONS):
    """Solves `game`.

    Args:
      game: a two-player zero-sum deterministic game with perfect information (any game that
        `environments.openspiel.load_two_player_game` accepts).
      seed: seeds the choice among equally good moves.
      max_positions: refuse the game (ValueError) when it has more positions than this.
    """
    if game.max_game_length() > MAX_MINIMAX_MOVES:
      raise ValueError(f'{game} lasts up to {game.max_game_length()} moves, too long to solve by '
                       f'minimax; allowed: games of at most {MAX_MINIMAX_MOVES} moves and '
                       f'{max_positions:,} positions, such as tic_tac_toe (use the mcts opponent '
                       'for larger ones).')
    self.name = 'minimax'
    self._rng = np.random.default_rng(seed)
    self._values: Dict[Tuple[int, str], float] = {}
    self._solve(game.new_initial_state(), str(game), max_positions)

  @staticmethod
  def _key(state: pyspiel.State) -> Tuple[int, str]:
    return state.current_player(), str(state)

  def _solve(self, root: pyspiel.State, game_name: str, max_positions: int) -> None:
    """Fills the value table by depth-first search, with a stack of its own rather than recursion
    so that the depth is not bounded by Python's recursion limit."""
    stack = [root]
    while stack:
      state = stack[-1]
      key = self._key(state)
      if key in self._values:
        stack.pop()
        continue
      if state.is_terminal():
        self._values[key] = state.returns()[0]
        stack.pop()
        continue
      mover = state.current_player()
      if mover not in (0, 1):
        raise ValueError(f'{game_name} has a chance or simultaneous move (player {mover}); allowed: '
                         'deterministic games where players move in turn.')
      children = [state.child(action) for action in state.legal_actions()]
      unsolved = [child for child in children if self._key(child) not in self._values]
      if unsolved:
        stack.extend(unsolved)
        continue
      values = [self._values[self._key(child)] for child in children]
      self._values[key] = max(values) if mover == 0 else min(values)
      stack.pop()
      if len(self._values) > max_positions:
        raise ValueError(f'{game_name} has more than {max_positions:,} positions, too many to solve '
                         f'by minimax; allowed: games of at most {max_positions:,} positions, such '
                         'as tic_tac_toe (use the mcts opponent for larger ones).')

  def value(self, state: pyspiel.State, player: int) -> float:
    """`player`'s return from `state` when both sides play perfectly."""
    if player not in (0, 1):
      raise ValueError(f'player {player} is not allowed; allowed: 0 or 1.')
    key = self._key(state)
    if key not in self._values:
      raise ValueError(f'the position\n{state}\nis not reachable in the game this player solved.')
    return self._values[key] if player == 0 else -self._values[key]

  def choose_action(self, state: pyspiel.State) -> int:
    actions = _legal_actions(state)
    mover = state.current_player()
    values = [self.value(state.child(action), mover) for action in actions]
    best = max(values)
    return int(self._rng.choice([action for action, value in zip(actions, values) if value == best]))


class MCTSPlayer:
  """OpenSpiel's Monte-Carlo tree search (`open_spiel.python.algorithms.mcts.MCTSBot`): UCT with
  one uniformly random rollout per simulation, and solved subtrees backed up as exact values."""

  def __init__(self, game: pyspiel.Game, max_simulations: int = 1000, uct_c: float = 2.0,
               seed: int = 0):
    """Makes the bot.

    Args:
      game: the game it plays.
      max_simulations: simulations (each one rollout) per move.
      uct_c: UCT's exploration constant.
      seed: seeds the rollouts and the tie-breaking.
    """
    if max_simulations < 1:
      raise ValueError(f'max_simulations={max_simulations} is not allowed; it must be >= 1.')
    self.name = f'mcts({max_simulations})'
    random_state = np.random.RandomState(seed)
    self._bot = mcts.MCTSBot(
        game, uct_c=uct_c, max_simulations=max_simulations,
        evaluator=mcts.RandomRolloutEvaluator(n_rollouts=1, random_state=random_state),
        random_state=random_state)

  def choose_action(self, state: pyspiel.State) -> int:
    _legal_actions(state)
    return int(self._bot.step(state))


def make_opponent(name: str, game: pyspiel.Game, seed: int = 0,
                  mcts_simulations: int = 1000) -> Player:
  """The opponent called `name` (one of OPPONENTS) for `game`."""
  if name == 'minimax':
    return MinimaxPlayer(game, seed=seed)
  if name == 'random':
    return RandomPlayer(seed=seed)
  if name == 'mcts':
    return MCTSPlayer(game, max_simulations=mcts_simulations, seed=seed)
  raise ValueError(f'unknown opponent {name!r}; allowed: {", ".join(OPPONENTS)}.')
