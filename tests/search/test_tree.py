"""The tree's row and edge accessors, and that XLA updates the tree in place inside the loops."""

import re

import numpy as np
import pytest
import tensorflow as tf

from search import qtransforms
from search import search as search_lib
from search import selection
from search import tree as tree_lib
from tests.search import tiny_networks

BATCH_SIZE, NUM_NODES, NUM_ACTIONS = 3, 5, 4
# Trees 0 and 2 update the same (node, action): each must change only its own tree.
NODES = np.array([2, 0, 2], np.int32)
ACTIONS = np.array([1, 3, 1], np.int32)


def _edge_array() -> np.ndarray:
  return np.arange(BATCH_SIZE * NUM_NODES * NUM_ACTIONS, dtype=np.float32).reshape(
      BATCH_SIZE, NUM_NODES, NUM_ACTIONS)


def _compiled(function):
  return tf.function(function, jit_compile=True, autograph=False)


def test_gather_edges_and_rows_read_each_trees_own_entry():
  array = _edge_array()
  edges = _compiled(tree_lib.gather_edges)(array, NODES, ACTIONS).numpy()
  rows = _compiled(tree_lib.gather_node_rows)(array, NODES).numpy()
  np.testing.assert_array_equal(edges, array[np.arange(BATCH_SIZE), NODES, ACTIONS])
  np.testing.assert_array_equal(rows, array[np.arange(BATCH_SIZE), NODES])


def test_set_edges_and_add_to_edges_change_one_entry_per_tree():
  array, values = _edge_array(), np.array([-1.0, -2.0, -3.0], np.float32)
  expected_set, expected_add = array.copy(), array.copy()
  expected_set[np.arange(BATCH_SIZE), NODES, ACTIONS] = values
  expected_add[np.arange(BATCH_SIZE), NODES, ACTIONS] += values
  np.testing.assert_array_equal(
      _compiled(tree_lib.set_edges)(array, NODES, ACTIONS, values).numpy(), expected_set)
  np.testing.assert_array_equal(
      _compiled(tree_lib.add_to_edges)(array, NODES, ACTIONS, values).numpy(), expected_add)


def test_set_node_rows_replaces_one_row_per_tree():
  array = _edge_array()
  rows = -np.arange(BATCH_SIZE * NUM_ACTIONS, dtype=np.float32).reshape(BATCH_SIZE, NUM_ACTIONS)
  expected = array.copy()
  expected[np.arange(BATCH_SIZE), NODES] = rows
  np.testing.assert_array_equal(
      _compiled(tree_lib.set_node_rows)(array, NODES, rows).numpy(), expected)


def test_first_argmax_takes_the_lowest_index_of_the_highest_score():
  scores = np.array([[0.5, 2.0, 2.0, -1.0],  # tie between 1 and 2
                     [-np.inf, -np.inf, 0.0, -np.inf],  # illegal actions score -inf
                     [3.0, 3.0, 3.0, 3.0],  # all tied
                     [-5.0, -4.0, -4.5, -4.0]], np.float32)
  expected = [1, 2, 0, 1]
  np.testing.assert_array_equal(_compiled(selection.first_argmax)(scores).numpy(), expected)
  np.testing.assert_array_equal(tf.argmax(scores, axis=-1).numpy(), expected)


def _while_bodies_copying(hlo: str, shape: str):
  """Names of the non-entry computations of `hlo` that copy an array of `shape`."""
  copying, computation = set(), None
  for line in hlo.splitlines():
    header = re.match(r'^(ENTRY )?%(\S+) ', line)
    if header and line.rstrip().endswith('{'):
      computation = None if header.group(1) else header.group(2)
    elif computation and re.search(r'= \w+' + re.escape(shape) + r'\S* copy\(', line):
      copying.add(computation)
  return copying


@pytest.mark.parametrize('batch_size', [1, 3])
def test_simulations_update_the_tree_arrays_in_place(batch_size):
  """No simulation copies a [B, N, A] array: XLA updates them in place (see `search.tree`).

  A copy in a loop body costs O(N A) per simulation or tree level; the optimised HLO of the
  compiled search must copy the tree's arrays only where it builds them, outside the loops.
  """
  num_simulations, num_actions = 30, 7
  network = tiny_networks.RandomNetwork(5, num_actions, seed=0)

  def search(observations):
    root = network.initial_inference(observations)
    tree = tree_lib.init_tree(root.latent, tf.nn.softmax(root.policy_logits), root.value,
                              tf.ones([batch_size, num_actions], tf.bool), num_simulations,
                              qtransforms.init_min_max_stats(batch_size))
    tree = search_lib.run_simulations(tree, network, num_simulations,
                                       selection.puct(1.25, 19652.0, 0.9), 0.9)
    return tree.children_visits, tree.children_value_sums, tree.children_index

  observations = tf.zeros([batch_size, 5])
  hlo = _compiled(search).experimental_get_compiler_ir(observations)(stage='optimized_hlo')
  edge_shape = f'[{batch_size},{num_simulations + 1},{num_actions}]'
  assert 'while(' in hlo and edge_shape in hlo
  assert not _while_bodies_copying(hlo, edge_shape)
