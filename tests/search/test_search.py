"""Invariants of the trees that simulate / expand / backward build."""

import numpy as np
import pytest
import tensorflow as tf

from search import qtransforms
from search import search as search_lib
from search import selection
from search import tree as tree_lib
from tests.search import tiny_networks

NUM_SIMULATIONS = 24
BATCH_SIZE = 4


@pytest.fixture(scope='module', params=[False, True], ids=['one_player', 'two_player'])
def searched_tree(request):
  network = tiny_networks.RandomNetwork(5, 3, seed=8)
  signed_discount = tree_lib.signed_discount(0.95, two_player=request.param)

  @tf.function(jit_compile=True, autograph=False)
  def search(observations):
    root = network.initial_inference(observations)
    tree = tree_lib.init_tree(root.latent, tf.nn.softmax(root.policy_logits), root.value,
                              tf.ones([BATCH_SIZE, 3], tf.bool), NUM_SIMULATIONS,
                              qtransforms.init_min_max_stats(BATCH_SIZE))
    return search_lib.run_simulations(
        tree, network, NUM_SIMULATIONS, selection.puct(1.25, 19652.0, signed_discount),
        signed_discount)

  observations = np.random.default_rng(0).normal(size=(BATCH_SIZE, 5)).astype(np.float32)
  return search(observations), signed_discount


def test_every_simulation_creates_one_node_linked_to_its_parent(searched_tree):
  tree, _ = searched_tree
  parents, actions = tree.parents.numpy(), tree.action_from_parent.numpy()
  children_index = tree.children_index.numpy()
  assert (parents[:, 0] == tree_lib.UNEXPANDED).all()
  for node in range(1, NUM_SIMULATIONS + 1):
    # A node's parent was created before it, and points back to it.
    assert (parents[:, node] < node).all() and (parents[:, node] >= 0).all()
    np.testing.assert_array_equal(
        children_index[np.arange(BATCH_SIZE), parents[:, node], actions[:, node]], node)
  assert ((children_index >= 0).sum(axis=(1, 2)) == NUM_SIMULATIONS).all()


def test_visit_counts_add_up(searched_tree):
  tree, _ = searched_tree
  children_visits = tree.children_visits.numpy()
  parents, actions = tree.parents.numpy(), tree.action_from_parent.numpy()
  node_visits = tree_lib.node_visits(tree.children_visits).numpy()
  assert (node_visits[:, 0] == NUM_SIMULATIONS + 1).all()
  # The edge into a node was visited as often as the node: once for its expansion plus once per
  # visit of one of its children.
  for node in range(1, NUM_SIMULATIONS + 1):
    np.testing.assert_array_equal(
        children_visits[np.arange(BATCH_SIZE), parents[:, node], actions[:, node]],
        node_visits[:, node])
  assert (children_visits[tree.children_index.numpy() < 0] == 0).all()


def test_normalised_q_of_visited_edges_is_in_unit_interval(searched_tree):
  tree, signed_discount = searched_tree
  q_values = tree_lib.children_q_values(tree.children_visits, tree.children_value_sums,
                                        tree.children_rewards, signed_discount)
  normalized = qtransforms.normalize_q(tree.min_max_stats, q_values).numpy()
  visited = tree.children_visits.numpy() > 0
  assert (tree.min_max_stats.maximum.numpy() > tree.min_max_stats.minimum.numpy()).all()
  assert normalized[visited].min() >= -1e-6 and normalized[visited].max() <= 1 + 1e-6
