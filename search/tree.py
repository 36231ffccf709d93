"""The search tree: B independent trees held in fixed-size batched tensors.

Node 0 of every tree is the root and simulation k (counting from 0) creates node k + 1, in every
tree of the batch at once (MuZero's model has no terminal states, so every simulation expands
exactly one new leaf). The tree therefore never runs out of room and keeps one static shape through
the compiled loops. Statistics of an edge (node, action) live at the parent, in the `children_*`
arrays, as in mctx: pUCT at a node reads one row of each array instead of following child pointers.

Layout and cost: the [B, N, A] edge arrays are allocated once per search and every simulation
updates them in place, so a simulation costs O(depth x A) (one row read per tree level, a few
entries written), whatever N is. The arrays stay dense rather than holding child tables for
expanded nodes only, because every node is expanded (N rows are all used by the end of a search)
and the dense rows keep pUCT a plain row read; what made simulations grow with N was XLA copying
whole arrays, not their size. In-place updates under XLA need three things, checked in the
optimised HLO (tests/search/test_tree.py asserts that no loop body copies a [B, N, A] array):
  * updates are scatters on the arrays' own shape (`set_edges`, `set_node_rows`): a scatter on a
    flat reshape became, at B = 1, a fusion of reshape and update that XLA neither emits in place
    nor keeps from being duplicated into each reader, i.e. a copy of the array per update;
  * nothing reads an array's old value where XLA cannot order the read before the write: backup
    reads Q back from the updated arrays (`backward` in search/search.py);
  * the arrays pass through the descent loop (`simulate`) read-only.
The depth itself may grow with N: where pUCT keeps to one line (a random network under the
paper's rule that an unvisited child scores as a loss), trees grow nearly as chains ~N/2 deep on
average, and that work per simulation is the algorithm's, not the layout's.

Sign convention (single- and two-player alike):
  * a reward belongs to an edge and is seen from the player who took the action, i.e. the player
    to move at the parent;
  * a value belongs to a node and is seen from the player to move at that node.
  A child's value is brought into its parent's point of view by `signed_discount`:
  discount for one player, -discount for two-player zero-sum games with alternating turns, so that
  Q(s, a) = r(s, a) + signed_discount * value(child) and every backup step is
  G(parent) = r(s, a) + signed_discount * G(child).
"""

from typing import NamedTuple

import tensorflow as tf

from search import qtransforms

ROOT_INDEX = 0
# children_index of a child that has no node yet (and parents/action_from_parent of the root).
UNEXPANDED = -1


class Tree(NamedTuple):
  """State of B search trees with room for N = num_simulations + 1 nodes and A actions each.

  A node's visit count is 1 (its own expansion, whose network value opened its value sum; the
  root is treated like every other node) plus the visits of its children: `node_visits`.

  Attributes:
    embeddings: [B, N, *latent_shape] latent state of each created node.
    raw_values: [B, N] network value of each node at its expansion (player to move there).
    parents: [B, N] int32 parent of each node; UNEXPANDED for the root and unused nodes.
    action_from_parent: [B, N] int32 action that led from the parent to each node.
    children_index: [B, N, A] int32 node index of each child, UNEXPANDED if not created yet.
    children_prior: [B, N, A] prior of each action (softmax of the policy logits; with the legal
      mask and the exploration noise applied at the root).
    children_visits: [B, N, A] int32 visit count of each child.
    children_value_sums: [B, N, A] sum of the values backed up into each child, each from the
      point of view of the player to move at the child.
    children_rewards: [B, N, A] reward of each edge (player to move at the parent); 0 until the
      child is created.
    root_legal_actions: [B, A] bool, the actions pUCT may choose at the root.
    min_max_stats: Running Q bounds of each tree.
  """

  embeddings: tf.Tensor
  raw_values: tf.Tensor
  parents: tf.Tensor
  action_from_parent: tf.Tensor
  children_index: tf.Tensor
  children_prior: tf.Tensor
  children_visits: tf.Tensor
  children_value_sums: tf.Tensor
  children_rewards: tf.Tensor
  root_legal_actions: tf.Tensor
  min_max_stats: qtransforms.MinMaxStats


def signed_discount(discount: float, two_player: bool) -> float:
  """Factor that brings a child's value into its parent's point of view (see module doc)."""
  return -discount if two_player else discount


def init_tree(root_embedding: tf.Tensor, root_prior: tf.Tensor, root_value: tf.Tensor,
              root_legal_actions: tf.Tensor, num_simulations: int,
              min_max_stats: qtransforms.MinMaxStats) -> Tree:
  """A tree per batch element holding only its expanded root.

  Args:
    root_embedding: [B, *latent_shape] latent state of the roots.
    root_prior: [B, A] root prior, already masked and noised.
    root_value: [B] network value of the roots.
    root_legal_actions: [B, A] bool.
    num_simulations: Simulations the tree must make room for.
    min_max_stats: Initial Q bounds.

  Returns:
    A Tree with N = num_simulations + 1 nodes, nodes 1..N-1 not created yet.
  """
  batch_size, num_actions = root_prior.shape
  num_nodes = num_simulations + 1

  def with_root(root_row: tf.Tensor, fill_value: float) -> tf.Tensor:
    """[B, N, ...] filled with fill_value, with root_row [B, ...] as node 0."""
    unused = tf.fill([batch_size, num_nodes - 1] + root_row.shape[1:].as_list(),
                     tf.constant(fill_value, root_row.dtype))
    return tf.concat([root_row[:, None], unused], axis=1)

  edge_shape = [batch_size, num_nodes, num_actions]
  return Tree(
      embeddings=with_root(root_embedding, 0),
      raw_values=with_root(root_value, 0),
      parents=tf.fill([batch_size, num_nodes], UNEXPANDED),
      action_from_parent=tf.fill([batch_size, num_nodes], UNEXPANDED),
      children_index=tf.fill(edge_shape, UNEXPANDED),
      children_prior=with_root(root_prior, 0),
      children_visits=tf.zeros(edge_shape, tf.int32),
      children_value_sums=tf.zeros(edge_shape, tf.float32),
      children_rewards=tf.zeros(edge_shape, tf.float32),
      root_legal_actions=root_legal_actions,
      min_max_stats=min_max_stats)


def node_visits(children_visits: tf.Tensor) -> tf.Tensor:
  """Visit count [...] of the nodes whose children have `children_visits` [..., A]."""
  return 1 + tf.reduce_sum(children_visits, axis=-1)


def children_q_values(children_visits: tf.Tensor, children_value_sums: tf.Tensor,
                      children_rewards: tf.Tensor, signed_discount_factor: float) -> tf.Tensor:
  """Q(s, a) = r + signed_discount * mean value of the child; 0 for unvisited children.

  All arguments share one shape [..., A]; the result is seen by the player to move at s.
  """
  visits = tf.cast(children_visits, tf.float32)
  mean_values = children_value_sums / tf.maximum(visits, 1.0)
  return tf.where(children_visits > 0, children_rewards + signed_discount_factor * mean_values,
                  tf.zeros_like(mean_values))


def root_value(tree: Tree, signed_discount_factor: float) -> tf.Tensor:
  """[B] value of the roots after search: value sum / visit count, as the paper's Node.value().

  The root's value sum holds its own network value (its expansion visit) plus, for each
  simulation, the return backed up through the child it went to; summed per child that is
  visits * reward + signed_discount * the child's value sum.
  """
  visits = tree.children_visits[:, ROOT_INDEX]
  value_sum = tree.raw_values[:, ROOT_INDEX] + tf.reduce_sum(
      tf.cast(visits, tf.float32) * tree.children_rewards[:, ROOT_INDEX] +
      signed_discount_factor * tree.children_value_sums[:, ROOT_INDEX], axis=-1)
  return value_sum / tf.cast(node_visits(visits), tf.float32)


def gather_node_rows(array: tf.Tensor, node: tf.Tensor) -> tf.Tensor:
  """Row `node[b]` of `array[b]` for each b: [B, N, ...] x [B] -> [B, ...]."""
  return tf.gather(array, node, axis=1, batch_dims=1)


def gather_edges(array: tf.Tensor, node: tf.Tensor, action: tf.Tensor) -> tf.Tensor:
  """`array[b, node[b], action[b]]` for each b: [B, N, A] x [B] x [B] -> [B]."""
  return tf.gather_nd(array, _edge_index(node, action))


def set_node_rows(array: tf.Tensor, node: tf.Tensor, rows: tf.Tensor) -> tf.Tensor:
  """`array` [B, N, ...] with row `node[b]` of tree b replaced by `rows[b]` [B, ...]."""
  node_index = tf.stack([tf.range(tf.shape(node)[0]), node], axis=1)
  return tf.tensor_scatter_nd_update(array, node_index, rows)


def set_edges(array: tf.Tensor, node: tf.Tensor, action: tf.Tensor,
              values: tf.Tensor) -> tf.Tensor:
  """`array` [B, N, A] with entry (node[b], action[b]) of tree b replaced by `values[b]`."""
  return tf.tensor_scatter_nd_update(array, _edge_index(node, action), values)


def add_to_edges(array: tf.Tensor, node: tf.Tensor, action: tf.Tensor,
                 values: tf.Tensor) -> tf.Tensor:
  """`array` [B, N, A] with `values[b]` added to entry (node[b], action[b]) of tree b."""
  return tf.tensor_scatter_nd_add(array, _edge_index(node, action), values)


def _edge_index(node: tf.Tensor, action: tf.Tensor) -> tf.Tensor:
  """[B, 3] indices (b, node[b], action[b]) into a [B, N, A] array."""
  return tf.stack([tf.range(tf.shape(node)[0]), node, action], axis=1)
