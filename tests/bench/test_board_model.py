"""bench.board_model: the probes' true rewards come from the game's rules, seen by the mover."""

import numpy as np

from bench import board_model
from environments import openspiel


def _position(moves):
  environment = openspiel.OpenSpielEnvironment(openspiel.load_two_player_game('tic_tac_toe'))
  timestep = environment.reset()
  for move in moves:
    timestep = environment.step(move)
  return timestep.observation, environment.state.clone()


def test_probes_label_wins_one_and_two_plies_ahead():
  # x: 0, 1; o: 3, 4; x to move. x wins with 2; after any other x move but 5, o wins with 5.
  position = _position([0, 3, 1, 4])
  probes = board_model.reward_probes([position], np.random.default_rng(0))
  observations, actions, rewards = probes[1]
  assert len(observations) == 5 and sorted(a for [a] in actions) == [2, 5, 6, 7, 8]
  assert {a: r for [a], r in zip(actions, rewards)} == {2: 1.0, 5: 0.0, 6: 0.0, 7: 0.0, 8: 0.0}
  # Depth 2: x's winning move ends the game, so it has no reply; the reply is o's, and it is
  # labelled +1 exactly when o completes 3-4-5.
  _, replies, reply_rewards = probes[2]
  assert sorted(first for first, _ in replies) == [5, 6, 7, 8]
  for (first, reply), reward in zip(replies, reply_rewards):
    assert reward == (1.0 if reply == 5 else 0.0), (first, reply)


def test_random_games_record_every_decision_with_its_state():
  environment = openspiel.OpenSpielEnvironment(openspiel.load_two_player_game('tic_tac_toe'))
  positions = board_model.random_games(environment, 3, np.random.default_rng(0))
  for observation, state in positions:
    assert not state.is_terminal()
    legal = np.zeros(9, np.float32)
    legal[state.legal_actions()] = 1
    np.testing.assert_array_equal(observation['legal_actions'], legal)
