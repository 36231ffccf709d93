"""The simulations of a batched MuZero search: simulate, expand and backward as pure functions.

Each simulation descends every tree of the batch from its root with an injected selection rule
(pUCT, or Gumbel MuZero's) until it picks an edge with no node yet (`simulate`), creates that node
with one batched `recurrent_inference` for all B leaves (`expand`) and backs the new node's value
up to the root (`backward`). All loops are `tf.while_loop`s so that one compiled function runs a
whole search.
"""

from typing import Tuple

import tensorflow as tf

from search import network as network_lib
from search import qtransforms
from search import selection
from search import tree as tree_lib


def simulate(tree: tree_lib.Tree,
             select_action: selection.SelectActionFn) -> Tuple[tf.Tensor, tf.Tensor]:
  """Descends each tree with `select_action` to an edge whose child does not exist yet.

  Args:
    tree: The trees, with at least their roots expanded.
    select_action: The selection rule (pUCT: `selection.puct`; Gumbel: `gumbel.select_action`).

  Returns:
    parent: [B] int32 the last existing node on each path.
    action: [B] int32 the action chosen there, whose child is to be created.
  """
  batch_size, num_nodes = tree.parents.shape

  def step_down(node, action, is_descending):
    # Selection runs for every tree, but only trees still descending take its choice and move
    # on: the others keep the (node, action) whose child is missing until the deepest tree is
    # done.
    chosen = select_action(tree, node)
    child = tree_lib.gather_edges(tree.children_index, node, chosen)
    action = tf.where(is_descending, chosen, action)
    has_child = tf.logical_and(is_descending, tf.not_equal(child, tree_lib.UNEXPANDED))
    return tf.where(has_child, child, node), action, has_child

  root = tf.fill([batch_size], tree_lib.ROOT_INDEX)
  node, action, _ = tf.while_loop(
      lambda node, action, is_descending: tf.reduce_any(is_descending), step_down,
      (root, tf.zeros_like(root), tf.ones([batch_size], tf.bool)),
      maximum_iterations=num_nodes)
  return node, action


def expand(tree: tree_lib.Tree, network: network_lib.Network, parent: tf.Tensor,
           action: tf.Tensor, new_node: tf.Tensor) -> tree_lib.Tree:
  """Creates node `new_node` (scalar int32) in every tree as child `action` of `parent` [B]."""
  batch_size = tree.parents.shape[0]
  output = network.recurrent_inference(tree_lib.gather_node_rows(tree.embeddings, parent), action)
  new_nodes = tf.fill([batch_size], new_node)
  return tree._replace(
      embeddings=tree_lib.set_node_rows(tree.embeddings, new_nodes, output.latent),
      raw_values=tree_lib.set_node_rows(tree.raw_values, new_nodes, output.value),
      parents=tree_lib.set_node_rows(tree.parents, new_nodes, parent),
      action_from_parent=tree_lib.set_node_rows(tree.action_from_parent, new_nodes, action),
      children_prior=tree_lib.set_node_rows(tree.children_prior, new_nodes,
                                            tf.nn.softmax(output.policy_logits)),
      children_index=tree_lib.set_edges(tree.children_index, parent, action, new_nodes),
      children_rewards=tree_lib.set_edges(tree.children_rewards, parent, action, output.reward))


def backward(tree: tree_lib.Tree, leaf: tf.Tensor,
             signed_discount_factor: float) -> tree_lib.Tree:
  """Backs the value of node `leaf` (scalar int32) up to the root of every tree.

  Every edge on the path gains a visit and the return of its child, G(child); the return of the
  parent is then G(parent) = reward + signed_discount * G(child), starting from the leaf's network
  value. Each updated edge's Q widens the tree's min-max bounds, as in the paper's backpropagate
  (the root, which has no edge, adds nothing).
  """
  batch_size, num_nodes = tree.parents.shape

  def step_up(node, value, tree):
    is_below_root = tf.not_equal(node, tree_lib.ROOT_INDEX)
    parent = tf.where(is_below_root, tf.gather(tree.parents, node, batch_dims=1),
                      tf.zeros_like(node))
    action = tf.where(is_below_root, tf.gather(tree.action_from_parent, node, batch_dims=1),
                      tf.zeros_like(node))
    # Trees already at their root take part with zero increments: no branch in the batch.
    children_visits = tree_lib.add_to_edges(tree.children_visits, parent, action,
                                            tf.cast(is_below_root, tf.int32))
    children_value_sums = tree_lib.add_to_edges(
        tree.children_value_sums, parent, action,
        tf.where(is_below_root, value, tf.zeros_like(value)))
    # Q is read back from the updated arrays: were the old ones read, XLA could not order those
    # reads before the in-place writes and would copy both arrays (see `search.tree`).
    reward = tree_lib.gather_edges(tree.children_rewards, parent, action)
    q_value = reward + signed_discount_factor * (
        tree_lib.gather_edges(children_value_sums, parent, action) /
        tf.cast(tree_lib.gather_edges(children_visits, parent, action), tf.float32))
    tree = tree._replace(
        children_visits=children_visits, children_value_sums=children_value_sums,
        min_max_stats=qtransforms.update_min_max_stats(tree.min_max_stats, q_value,
                                                       is_below_root))
    return parent, reward + signed_discount_factor * value, tree

  leaves = tf.fill([batch_size], leaf)
  _, _, tree = tf.while_loop(
      lambda node, value, tree: tf.reduce_any(tf.not_equal(node, tree_lib.ROOT_INDEX)),
      step_up, (leaves, tf.gather(tree.raw_values, leaves, batch_dims=1), tree),
      maximum_iterations=num_nodes)
  return tree


def run_simulations(tree: tree_lib.Tree, network: network_lib.Network, num_simulations: int,
                    select_action: selection.SelectActionFn,
                    signed_discount_factor: float) -> tree_lib.Tree:
  """Runs `num_simulations` simulations on trees that hold only their roots."""

  def one_simulation(simulation, tree):
    parent, action = simulate(tree, select_action)
    new_node = simulation + 1
    tree = expand(tree, network, parent, action, new_node)
    return simulation + 1, backward(tree, new_node, signed_discount_factor)

  _, tree = tf.while_loop(lambda simulation, tree: simulation < num_simulations,
                          one_simulation, (tf.constant(0), tree))
  return tree
