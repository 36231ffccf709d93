"""The fixed board-game players: perfect minimax, uniform random and OpenSpiel's MCTS.

Tic-tac-toe actions are cells 0..8 in reading order; x (player 0) moves first.
"""

from typing import List, Sequence, Tuple

import pyspiel
import pytest

from environments import opponents


@pytest.fixture(scope='module')
def game() -> pyspiel.Game:
  return pyspiel.load_game('tic_tac_toe')


@pytest.fixture(scope='module')
def solved(game) -> opponents.MinimaxPlayer:
  """One solved game for the tests that only read values (solving takes a fraction of a second)."""
  return opponents.MinimaxPlayer(game)


def position(game: pyspiel.Game, moves: Sequence[int]) -> pyspiel.State:
  state = game.new_initial_state()
  for action in moves:
    state.apply_action(action)
  return state


def play(game: pyspiel.Game, first, second) -> Tuple[List[float], List[int]]:
  """One game; returns (both players' returns, the moves), checking every move is legal."""
  state, players, moves = game.new_initial_state(), (first, second), []
  while not state.is_terminal():
    action = players[state.current_player()].choose_action(state)
    assert action in state.legal_actions(), (action, str(state))
    moves.append(action)
    state.apply_action(action)
  return state.returns(), moves


def test_minimax_values_the_empty_board_as_a_draw(game, solved):
  state = game.new_initial_state()
  assert solved.value(state, 0) == 0.0
  assert solved.value(state, 1) == 0.0


def test_minimax_values_a_finished_game_by_its_returns(game, solved):
  # x: 0, 1, 2 (top row) against o: 3, 4.
  state = position(game, [0, 3, 1, 4, 2])
  assert state.is_terminal()
  assert (solved.value(state, 0), solved.value(state, 1)) == (1.0, -1.0)


def test_minimax_takes_the_win_in_one(game, solved):
  # xx. / oo. / ... with x to move: 2 wins at once; anything but 2 or 5 lets o win at 5, and 5
  # only draws. So 2 is the one optimal move, whatever the random draws.
  state = position(game, [0, 3, 1, 4])
  assert solved.value(state, 0) == 1.0
  assert [solved.choose_action(state) for _ in range(10)] == [2] * 10


def test_minimax_blocks_the_loss_in_one(game, solved):
  # xx. / .o. / ... with o to move: x threatens 2; every other move loses.
  state = position(game, [0, 4, 1])
  assert solved.value(state, 1) == 0.0
  assert [solved.choose_action(state) for _ in range(10)] == [2] * 10


def test_minimax_against_itself_always_draws(game):
  first, second = opponents.MinimaxPlayer(game, seed=1), opponents.MinimaxPlayer(game, seed=2)
  for _ in range(20):
    returns, _ = play(game, first, second)
    assert returns == [0.0, 0.0]


def test_minimax_never_loses_to_random_as_either_player(game):
  minimax, random_player = opponents.MinimaxPlayer(game, seed=3), opponents.RandomPlayer(seed=4)
  minimax_returns = []
  for index in range(50):
    if index % 2 == 0:
      returns, _ = play(game, minimax, random_player)
      minimax_returns.append(returns[0])
    else:
      returns, _ = play(game, random_player, minimax)
      minimax_returns.append(returns[1])
  assert min(minimax_returns) >= 0.0
  assert minimax_returns.count(1.0) > 25  # Random play blunders most games away.


def test_minimax_seeds_give_different_games(game):
  def games(seed: int) -> List[List[int]]:
    first = opponents.MinimaxPlayer(game, seed=seed)
    second = opponents.MinimaxPlayer(game, seed=seed + 100)
    return [play(game, first, second)[1] for _ in range(5)]

  games_0, games_1 = games(0), games(1)
  assert games_0 == games(0)  # Reproducible...
  assert games_0 != games_1  # ...but two seeds differ...
  assert len({tuple(moves) for moves in games_0}) > 1  # ...and so do the games of one match.


def test_minimax_refuses_games_too_large_to_solve(game):
  with pytest.raises(ValueError, match='more than 100 positions.*allowed: games of at most 100'):
    opponents.MinimaxPlayer(game, max_positions=100)
  with pytest.raises(ValueError, match=r'chess\(\) lasts up to 17695 moves.*mcts'):
    opponents.MinimaxPlayer(pyspiel.load_game('chess'))


def test_random_plays_every_legal_move_and_only_those(game):
  player = opponents.RandomPlayer(seed=0)
  state = position(game, [4, 0])  # Cells 0 and 4 taken.
  chosen = {player.choose_action(state) for _ in range(200)}
  assert chosen == {1, 2, 3, 5, 6, 7, 8}
  for _ in range(20):
    play(game, player, opponents.RandomPlayer(seed=1))  # `play` checks legality.


def test_mcts_plays_legal_moves_and_beats_random_most_of_the_time(game):
  mcts = opponents.MCTSPlayer(game, max_simulations=100, seed=0)
  random_player = opponents.RandomPlayer(seed=0)
  mcts_returns = []
  for index in range(10):
    if index % 2 == 0:
      mcts_returns.append(play(game, mcts, random_player)[0][0])
    else:
      mcts_returns.append(play(game, random_player, mcts)[0][1])
  assert mcts_returns.count(1.0) >= 7, mcts_returns
  assert mcts.name == 'mcts(100)'


def test_players_refuse_a_finished_game(game, solved):
  state = position(game, [0, 3, 1, 4, 2])
  for player in (solved, opponents.RandomPlayer(), opponents.MCTSPlayer(game, max_simulations=10)):
    with pytest.raises(ValueError, match='the game is over'):
      player.choose_action(state)


def test_make_opponent_names_the_allowed_opponents(game):
  assert opponents.make_opponent('random', game).name == 'random'
  assert opponents.make_opponent('mcts', game, mcts_simulations=50).name == 'mcts(50)'
  with pytest.raises(ValueError, match="unknown opponent 'alphabeta'; allowed: minimax, random, mcts"):
    opponents.make_opponent('alphabeta', game)
  with pytest.raises(ValueError, match='max_simulations=0 is not allowed'):
    opponents.make_opponent('mcts', game, mcts_simulations=0)
