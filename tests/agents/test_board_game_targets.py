"""Tic-tac-toe games through the replay writer, Reverb and the learner's targets: outcomes, signed.

Rewards belong to the player who moved and values to the player to move, so a finished game's
value target at every position must be the final outcome for the player to move there.
"""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from agents.muzero import config as config_lib
from agents.muzero import replay as replay_lib
from environments import make_environment



def _play(moves, make_replay):
  """Plays `moves` (OpenSpiel cells, row * 3 + column, X first) through the board-game preset's
  adder; returns (replay, config, player to move at each ply, both players' returns)."""
  environment = make_environment('openspiel:tic_tac_toe', seed=0)
  # The preset, sampling from the first item on.
  config = dataclasses.replace(config_lib.board_game('tic_tac_toe'), min_replay_size=1)
  replay = make_replay(environment, config)
  adder = replay.builder.make_adder(replay.client)
  num_actions = environment.action_spec().num_values
  timestep = environment.reset()
  adder.add_first(timestep)
  movers = []
  for move in moves:
    movers.append(int(timestep.observation['to_play']))
    extras = {'search_policy': np.full(num_actions, 1.0 / num_actions, np.float32),
              'root_value': np.float32(0.0)}
    timestep = environment.step(move)
    adder.add(np.int32(move), timestep, extras)
  assert timestep.last(), 'the moves must finish the game'
  adder.close()
  return replay, config, movers, environment.player_returns()


def _first_value_targets(replay, config, num_items):
  """{ply of the item's first position: z_0} over every item of the table."""
  targets = {}
  for sample in replay.sample_every_item(num_items):
    item = tf.nest.map_structure(lambda x: tf.constant(np.asarray(x)[None]), sample.data)
    item_targets = replay_lib.item_targets(
        item, item['bootstrap_value'], config.unroll_steps, config.td_steps, config.discount,
        replay.builder.two_player)
    # Every item starts at a decision row, whose value target is trained.
    assert float(item_targets.value_mask.numpy()[0, 0]) == 1.0
    # Plane 0 of OpenSpiel's tic-tac-toe observation marks the empty cells.
    ply = 9 - int(np.asarray(sample.data['observation']['board'])[0, ..., 0].sum())
    targets[ply] = float(item_targets.value.numpy()[0, 0])
  return targets


@pytest.mark.parametrize('moves, returns', [
    ([0, 3, 1, 4, 2], [1.0, -1.0]),  # X completes the top row at ply 5.
    ([0, 3, 1, 4, 8, 5], [-1.0, 1.0]),  # O completes the middle row at ply 6.
    ([0, 1, 2, 4, 3, 5, 7, 6, 8], [0.0, 0.0]),  # A full board without a line.
], ids=['first_player_wins', 'second_player_wins', 'draw'])
def test_value_targets_are_the_final_outcome_of_the_player_to_move(moves, returns,
                                                                   make_replay):
  replay, config, movers, player_returns = _play(moves, make_replay)
  np.testing.assert_array_equal(player_returns, returns)
  assert replay.size() == len(moves)  # One item per position, the last ones padded.
  targets = _first_value_targets(replay, config, len(moves))
  assert sorted(targets) == list(range(len(moves)))
  for ply, mover in enumerate(movers):
    assert targets[ply] == pytest.approx(returns[mover], abs=1e-6), (ply, targets)
