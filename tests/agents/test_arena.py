"""Matches between a batched agent and a fixed player: seats, lock-step plies, bookkeeping.

Tic-tac-toe actions are cells 0..8 in reading order; x (player 0) moves first.
"""

from typing import List

import numpy as np
import pytest

from agents.muzero import arena
from environments import openspiel
from environments import opponents


class FirstLegalActor:
  """A batched agent that always plays the lowest legal cell; records every batch it is given."""

  def __init__(self, num_environments: int):
    self.num_environments = num_environments
    self.batches: List[list] = []

  def select_actions(self, observations):
    self.batches.append(observations)
    return np.asarray([np.argmax(observation['legal_actions']) for observation in observations])


class FirstLegalPlayer:
  """The same strategy as a fixed opponent."""

  name = 'first_legal'

  def choose_action(self, state):
    return min(state.legal_actions())


@pytest.fixture
def no_moves_after_the_end(monkeypatch):
  """Fails any step of a finished game (the environment would silently start a new one)."""
  step = openspiel.OpenSpielEnvironment.step

  def checked_step(environment, action):
    assert not environment.state.is_terminal(), f'a move ({action}) in a finished game'
    return step(environment, action)

  monkeypatch.setattr(openspiel.OpenSpielEnvironment, 'step', checked_step)


def test_lowest_cell_players_seats_and_lock_step(no_moves_after_the_end):
  # When both sides take the lowest free cell: x0 o1 x2 o3 x4 o5 x6, and x wins on 2-4-6. So the
  # agent wins every game it starts and loses every other one. Games run in lock-step: the agent
  # moves 4 times as x and 3 times as o, so 4 batched searches in all, and in the 4th the games it
  # plays as o are over and show the first position.
  actor = FirstLegalActor(num_environments=6)
  result = arena.play_games(actor, 'tic_tac_toe', FirstLegalPlayer(), num_games=6)

  assert result.agent_players == (0, 1, 0, 1, 0, 1)
  assert result.scores == (1, -1, 1, -1, 1, -1)
  assert result.record(0) == (3, 0, 0)
  assert result.record(1) == (0, 0, 3)
  assert result.mean_score == 0.0
  assert (result.game, result.opponent, result.num_games) == ('tic_tac_toe()', 'first_legal', 6)
  assert len(actor.batches) == 4
  first_position = openspiel.OpenSpielEnvironment(
      openspiel.load_two_player_game('tic_tac_toe')).reset().observation
  for observation in actor.batches[-1][1::2]:
    np.testing.assert_array_equal(observation['board'], first_position['board'])
    np.testing.assert_array_equal(observation['legal_actions'], np.ones(9))
  # In the last search, the games it plays as x show x 0 2 4 and o 1 3 5: cells 6, 7, 8 free.
  for observation in actor.batches[-1][0::2]:
    np.testing.assert_array_equal(observation['legal_actions'], [0] * 6 + [1] * 3)
    assert observation['to_play'] == 0


def test_lowest_cell_agent_never_beats_minimax(no_moves_after_the_end):
  # As x: x0, then the only move that does not lose for o is the centre, o4; x1 forces o2, which
  # threatens 2-4-6; x3 threatens 0-3-6, so o6 (win in one) is minimax's only optimal move: the
  # agent loses every game it starts. As o it cannot win against perfect play.
  num_games = 10
  actor = FirstLegalActor(num_environments=num_games)
  game = openspiel.load_two_player_game('tic_tac_toe')
  result = arena.play_games(actor, game, opponents.MinimaxPlayer(game, seed=0), num_games)

  assert result.record(0) == (0, 0, 5)
  wins, draws, losses = result.record(1)
  assert wins == 0 and draws + losses == 5
  assert result.mean_score == pytest.approx(-(5 + losses) / num_games)
  assert result.counts() == {'wins_first': 0, 'draws_first': 0, 'losses_first': 5,
                             'wins_second': 0, 'draws_second': draws, 'losses_second': losses}


def test_odd_number_of_games_gives_the_first_seat_one_more():
  result = arena.play_games(FirstLegalActor(3), 'tic_tac_toe', FirstLegalPlayer(), num_games=3)
  assert result.agent_players == (0, 1, 0)
  assert sum(result.record(0)) == 2 and sum(result.record(1)) == 1


def test_a_stop_abandons_the_match_between_plies():
  actor = FirstLegalActor(2)
  answers = iter([False, False, True])
  result = arena.play_games(actor, 'tic_tac_toe', FirstLegalPlayer(), num_games=2,
                            should_stop=lambda: next(answers))
  assert result is None
  assert len(actor.batches) == 2  # Asked before every ply: two searches, then the stop.


def test_errors_name_the_bad_value():
  with pytest.raises(ValueError, match='num_environments=4 to play 4 games'):
    arena.play_games(FirstLegalActor(6), 'tic_tac_toe', FirstLegalPlayer(), num_games=4)
  with pytest.raises(ValueError, match='num_games=0 is not allowed'):
    arena.play_games(FirstLegalActor(0), 'tic_tac_toe', FirstLegalPlayer(), num_games=0)
  with pytest.raises(ValueError, match="unknown OpenSpiel game 'tic_tac_tow'"):
    arena.play_games(FirstLegalActor(2), 'tic_tac_tow', FirstLegalPlayer(), num_games=2)
  with pytest.raises(ValueError, match='player 2 is not allowed'):
    arena.MatchResult('g', 'o', (0,), (1,)).record(2)


def test_result_prints_a_table_per_seat():
  # First seat: a win and a draw; second seat: two losses.
  result = arena.MatchResult(game='tic_tac_toe()', opponent='minimax', agent_players=(0, 1, 0, 1),
                             scores=(1, -1, 0, -1))
  assert str(result).splitlines() == [
      'tic_tac_toe(): agent vs minimax, 4 games',
      '               games  wins draws losses  score',
      'agent first        2     1     1      0  +0.50',
      'agent second       2     0     0      2  -1.00',
      'total              4     1     1      2  -0.25',
  ]
