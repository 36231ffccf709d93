"""Two-player zero-sum search on hand-built game trees: signs, forced wins, illegal moves.

Values are seen from the player to move and rewards from the player who moved (see
`search.tree`), so with discount 1 a child's return counts negated at its parent.
"""

import numpy as np
import pytest

from search import config as config_lib
from search import policies
from tests.search import tiny_networks

OBSERVATIONS = np.zeros((1, 1), np.float32)


def _two_player_config(**overrides) -> config_lib.SearchConfig:
  return config_lib.SearchConfig(**{'discount': 1.0, 'two_player': True, 'add_noise': False,
                                    'temperature': 0.0, 'value_bounds': (-1.0, 1.0),
                                    **overrides})


def _chain_network() -> tiny_networks.GameTreeNetwork:
  """Nodes 0 -> 1 -> 2 -> 3 by action 0 with rewards .5, .25, .125 and values 0, .1, .2, .3.

  Action 1 leads to node 4 (reward 0, value 0) with a prior so low that no simulation takes it.
  """
  return tiny_networks.GameTreeNetwork(
      children=[[1, 4], [2, 4], [3, 4], [3, 4], [4, 4]],
      rewards=[[0.5, 0.0], [0.25, 0.0], [0.125, 0.0], [0.0, 0.0], [0.0, 0.0]],
      values=[0.0, 0.1, 0.2, 0.3, 0.0],
      prior_logits=[[10.0, -10.0]] * 5)


def test_backed_up_values_alternate_sign_at_every_ply():
  # Simulation 1 expands node 1: G(0) = .5 - .1 = .4.
  # Simulation 2 expands node 2: G(1) = .25 - .2 = .05, G(0) = .5 - .05 = .45.
  # Simulation 3 expands node 3: G(2) = .125 - .3 = -.175, G(1) = .25 + .175 = .425,
  #   G(0) = .5 - .425 = .075.
  # Q(0, 0) = mean of the returns through it = (.4 + .45 + .075) / 3; the root value adds the
  # root's own value 0 as a fourth visit.
  output = policies.run_search(_chain_network(), OBSERVATIONS, np.array([[True, False]]), 0,
                               _two_player_config(num_simulations=3))
  np.testing.assert_array_equal(output.visit_counts.numpy(), [[3, 0]])
  np.testing.assert_allclose(output.q_values.numpy()[0, 0], (0.4 + 0.45 + 0.075) / 3, atol=1e-6)
  np.testing.assert_allclose(output.root_value.numpy(), [(0.4 + 0.45 + 0.075) / 4], atol=1e-6)


def test_the_same_tree_for_one_player_adds_every_ply():
  # Same tree without the sign flip: G(0) = .6, then .5 + .25 + .2 = .95, then .5 + .25 + .125
  # + .3 = 1.175.
  output = policies.run_search(_chain_network(), OBSERVATIONS, np.array([[True, False]]), 0,
                               _two_player_config(num_simulations=3, two_player=False,
                                                  value_bounds=None))
  np.testing.assert_allclose(output.q_values.numpy()[0, 0], (0.6 + 0.95 + 1.175) / 3, atol=1e-6)


def _win_in_one_network(winning_action: int) -> tiny_networks.GameTreeNetwork:
  """Root (node 0) with 4 moves: `winning_action` wins at once (reward 1, then the absorbing
  terminal node 5); every other move a leads to node a + 1, where the opponent wins by
  replying with the same action a (reward 1 for the opponent). Values are all 0 and priors
  uniform, so only the search can tell the moves apart."""
  terminal = 5
  children, rewards = [], []
  for node in range(6):
    if node == 0:
      children.append([terminal if a == winning_action else a + 1 for a in range(4)])
      rewards.append([1.0 if a == winning_action else 0.0 for a in range(4)])
    elif node == terminal:
      children.append([terminal] * 4)
      rewards.append([0.0] * 4)
    else:
      children.append([terminal] * 4)
      rewards.append([1.0 if a == node - 1 else 0.0 for a in range(4)])
  return tiny_networks.GameTreeNetwork(children, rewards, values=[0.0] * 6,
                                       prior_logits=[[0.0] * 4] * 6)


@pytest.mark.parametrize('winning_action', [0, 2, 3])
def test_a_win_in_one_is_found_with_few_simulations(winning_action):
  # The pseudocode scores unvisited children 0 after normalisation, i.e. as losses (-1) with
  # known bounds, so the search keeps re-visiting a move whose first visit looked even (0)
  # before it tries the next: with the win at index 3 it first selects the win at 11
  # simulations (measured over 4..60). 16 leaves a margin.
  output = policies.run_search(_win_in_one_network(winning_action), OBSERVATIONS, None, 0,
                               _two_player_config(num_simulations=16))
  assert output.selected_action.numpy().tolist() == [winning_action]
  assert np.argmax(output.visit_counts.numpy()[0]) == winning_action
  # The win is worth +1 to the mover; a move that lets the opponent win, once the reply was
  # searched, is worth -1 (and 0 before).
  np.testing.assert_allclose(output.q_values.numpy()[0, winning_action], 1.0, atol=1e-6)
  assert (output.q_values.numpy()[0] <= 1e-6).sum() == 3


@pytest.mark.parametrize('winning_action', [0, 2, 3])
def test_valuing_unvisited_moves_at_the_parents_value_finds_the_win_sooner(winning_action):
  # With unvisited_q='parent' an untried move counts as even (the root's value, 0) rather than as
  # a loss: moves are tried in order until the win, which is visited from then on (a move found
  # even keeps only its prior bonus). 6 simulations suffice where the paper's rule needs 11.
  output = policies.run_search(_win_in_one_network(winning_action), OBSERVATIONS, None, 0,
                               _two_player_config(num_simulations=6, unvisited_q='parent'))
  assert output.selected_action.numpy().tolist() == [winning_action]
  visits = output.visit_counts.numpy()[0]
  assert visits[winning_action] >= 3 and (visits[:winning_action] == 1).all()


def test_a_winning_move_that_is_illegal_is_never_searched_nor_chosen():
  legal_actions = np.array([[True, True, False, True]] * 4)
  output = policies.run_search(
      _win_in_one_network(winning_action=2), np.zeros((4, 1), np.float32), legal_actions,
      np.array([0, 1]), _two_player_config(num_simulations=24, add_noise=True, temperature=1.0))
  assert (output.visit_counts.numpy()[:, 2] == 0).all()
  assert (output.search_policy.numpy()[:, 2] == 0).all()
  assert (output.selected_action.numpy() != 2).all()
