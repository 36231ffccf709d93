"""pUCT scores against the paper's formula, computed by hand on a small tree."""

import math

import numpy as np
import pytest
import tensorflow as tf

from search import qtransforms
from search import selection
from search import tree as tree_lib

PB_C_INIT = 1.25
PB_C_BASE = 19652.0
DISCOUNT = 0.9


def _tree_with_visited_root(root_legal_actions) -> tree_lib.Tree:
  """One tree: the root visited 3 times through actions 0 (twice) and 1, node 1 = child 1."""
  tree = tree_lib.init_tree(
      root_embedding=tf.zeros([1, 2]), root_prior=tf.constant([[0.2, 0.5, 0.3]]),
      root_value=tf.constant([0.0]), root_legal_actions=tf.constant([root_legal_actions]),
      num_simulations=4,
      min_max_stats=qtransforms.MinMaxStats(tf.constant([-1.0]), tf.constant([2.0])))
  edge_values = np.zeros([1, 5, 3], np.float32)
  visits, value_sums, rewards, prior = (edge_values.copy(), edge_values.copy(),
                                        edge_values.copy(), tree.children_prior.numpy())
  visits[0, 0] = [2, 1, 0]
  value_sums[0, 0] = [1.0, -0.5, 0.0]
  rewards[0, 0] = [0.5, 0.0, 0.0]
  prior[0, 1] = [0.6, 0.3, 0.1]
  return tree._replace(children_visits=tf.constant(visits, tf.int32),
                       children_value_sums=tf.constant(value_sums),
                       children_rewards=tf.constant(rewards), children_prior=tf.constant(prior))


def _paper_ucb(q_normalized: float, prior: float, parent_visits: int, child_visits: int) -> float:
  pb_c = math.log((parent_visits + PB_C_BASE + 1) / PB_C_BASE) + PB_C_INIT
  pb_c *= math.sqrt(parent_visits) / (child_visits + 1)
  return q_normalized + pb_c * prior


@pytest.mark.parametrize('two_player', [False, True])
def test_root_scores_follow_the_paper(two_player):
  tree = _tree_with_visited_root([True, True, True])
  sign = -1.0 if two_player else 1.0
  signed_discount = tree_lib.signed_discount(DISCOUNT, two_player)
  scores = selection.puct_scores(tree, tf.constant([0]), PB_C_INIT, PB_C_BASE, signed_discount)
  # Q = reward + sign * 0.9 * value_sum / visits, normalised with bounds [-1, 2]; action 2 is
  # unvisited (value term 0); the root's visit count is 1 + 2 + 1 = 4.
  q_0 = 0.5 + sign * 0.9 * 1.0 / 2
  q_1 = 0.0 + sign * 0.9 * -0.5 / 1
  expected = [_paper_ucb((q_0 + 1) / 3, 0.2, 4, 2), _paper_ucb((q_1 + 1) / 3, 0.5, 4, 1),
              _paper_ucb(0.0, 0.3, 4, 0)]
  np.testing.assert_allclose(scores.numpy(), [expected], rtol=1e-6)


def test_unvisited_children_take_the_parents_value_with_unvisited_q_parent():
  # The root's network value 0.5 normalises to (0.5 + 1) / 3 = 0.5 with bounds [-1, 2]; visited
  # children keep their Q, so only action 2's score changes from the paper's rule.
  tree = _tree_with_visited_root([True, True, True])
  tree = tree._replace(raw_values=tf.tensor_scatter_nd_update(tree.raw_values, [[0, 0]], [0.5]))
  scores = selection.puct_scores(tree, tf.constant([0]), PB_C_INIT, PB_C_BASE, DISCOUNT,
                                 qtransforms.unvisited_as_parent)
  paper = selection.puct_scores(tree, tf.constant([0]), PB_C_INIT, PB_C_BASE, DISCOUNT,
                                qtransforms.unvisited_as_minimum)
  np.testing.assert_allclose(scores.numpy()[0, :2], paper.numpy()[0, :2], rtol=1e-6)
  np.testing.assert_allclose(scores.numpy()[0, 2], paper.numpy()[0, 2] + 0.5, rtol=1e-6)
  # Below the root nothing is visited: every child scores the node's normalised value plus its
  # prior bonus, so the highest prior still wins.
  assert selection.select_action(tree, tf.constant([1]), PB_C_INIT, PB_C_BASE, DISCOUNT,
                                 qtransforms.unvisited_as_parent).numpy().tolist() == [0]


def test_illegal_root_actions_cannot_be_selected_but_are_allowed_below_the_root():
  tree = _tree_with_visited_root([False, True, True])
  root_scores = selection.puct_scores(tree, tf.constant([0]), PB_C_INIT, PB_C_BASE, DISCOUNT)
  assert root_scores.numpy()[0, 0] == -np.inf
  # Node 1 has never been expanded through: visit count 1, no child visited, so the action with
  # the highest prior, 0, wins even though action 0 is illegal at the root.
  assert selection.select_action(tree, tf.constant([1]), PB_C_INIT, PB_C_BASE,
                                 DISCOUNT).numpy().tolist() == [0]


def test_ties_go_to_the_lowest_action():
  tree = tree_lib.init_tree(tf.zeros([1, 2]), tf.constant([[0.1, 0.45, 0.45]]),
                            tf.constant([0.0]), tf.constant([[True, True, True]]), 2,
                            qtransforms.init_min_max_stats(1))
  assert selection.select_action(tree, tf.constant([0]), PB_C_INIT, PB_C_BASE,
                                 DISCOUNT).numpy().tolist() == [1]
