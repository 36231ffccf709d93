"""environments.specs: the one test of "is this a two-player game?", read from the observation spec."""

import numpy as np
from dm_env import specs

from environments import make_environment
from environments import specs as environment_specs


def test_a_to_play_entry_makes_a_two_player_game_whatever_else_the_observation_holds():
  assert environment_specs.is_two_player(
      make_environment('openspiel:tic_tac_toe').observation_spec())
  assert not environment_specs.is_two_player(
      make_environment('gym:CartPole-v1').observation_spec())
  to_play = specs.BoundedArray((), np.int32, 0, 1)
  # A user's game needs neither a board nor a legal-action mask to say it has two players...
  assert environment_specs.is_two_player({environment_specs.TO_PLAY: to_play,
                                          'position': specs.Array((4,), np.float32)})
  # ... and a legal-action mask does not make a game two-player (a maze with walls).
  assert not environment_specs.is_two_player({
      environment_specs.LEGAL_ACTIONS: specs.Array((4,), np.float32),
      'position': specs.Array((4,), np.float32)})


def test_legal_actions_reads_the_mask_or_says_there_is_none():
  observation = make_environment('openspiel:tic_tac_toe').reset().observation
  np.testing.assert_array_equal(environment_specs.legal_actions(observation), np.ones(9))
  assert environment_specs.legal_actions(np.zeros(4, np.float32)) is None
  assert environment_specs.legal_actions({'frames': np.zeros((2, 2, 1), np.uint8)}) is None
