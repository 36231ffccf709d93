"""pUCT action selection inside the tree, exactly as the MuZero paper's pseudocode scores it.

score(s, a) = Qn(s, a) + P(s, a) * sqrt(N(s)) / (1 + N(s, a)) * (c1 + log((N(s) + c2 + 1) / c2))

with Qn the value term of an injected Q transform (`search.qtransforms`): the min-max normalised
Q(s, a) = r(s, a) + signed_discount * value(child) for visited children and, for unvisited ones,
0 (the pseudocode's rule, `qtransforms.unvisited_as_minimum`) or the normalised network value of
s (`qtransforms.unvisited_as_parent`), and N(s) the visit count of the node (see
`tree.node_visits`). Ties go to the lowest action index. At the root, actions outside the legal
mask score -inf; below the root every action is allowed (the model knows no rules there, as in
the paper).
"""

import functools
from typing import Callable

import tensorflow as tf

from search import qtransforms
from search import tree as tree_lib

# (tree, node [B]) -> [B] int32 action to take at each node: how `search.simulate` descends.
SelectActionFn = Callable[[tree_lib.Tree, tf.Tensor], tf.Tensor]


def node_statistics(tree: tree_lib.Tree, node: tf.Tensor,
                    signed_discount_factor: float) -> qtransforms.NodeStatistics:
  """The statistics of node `node[b]` of each tree b that Q transforms and selection read."""
  visits = tree_lib.gather_node_rows(tree.children_visits, node)
  q_values = tree_lib.children_q_values(
      visits, tree_lib.gather_node_rows(tree.children_value_sums, node),
      tree_lib.gather_node_rows(tree.children_rewards, node), signed_discount_factor)
  selectable = tf.logical_or(tf.not_equal(node, tree_lib.ROOT_INDEX)[:, None],
                             tree.root_legal_actions)
  return qtransforms.NodeStatistics(
      q_values=q_values, visits=visits,
      prior=tree_lib.gather_node_rows(tree.children_prior, node),
      value=tf.gather(tree.raw_values, node, batch_dims=1), selectable=selectable,
      min_max_stats=tree.min_max_stats)


def puct_scores(tree: tree_lib.Tree, node: tf.Tensor, pb_c_init: float, pb_c_base: float,
                signed_discount_factor: float,
                qtransform: qtransforms.QTransform = qtransforms.unvisited_as_minimum
                ) -> tf.Tensor:
  """pUCT score of every action at `node` [B] of each tree: [B, A] (-inf: not selectable)."""
  statistics = node_statistics(tree, node, signed_discount_factor)
  parent_visits = tf.cast(tree_lib.node_visits(statistics.visits), tf.float32)[:, None]
  exploration_weight = (pb_c_init + tf.math.log((parent_visits + pb_c_base + 1.0) / pb_c_base)
                       ) * tf.sqrt(parent_visits) / (1.0 + tf.cast(statistics.visits, tf.float32))
  scores = qtransform(statistics) + exploration_weight * statistics.prior
  return tf.where(statistics.selectable, scores, tf.fill(tf.shape(scores), float('-inf')))


def select_action(tree: tree_lib.Tree, node: tf.Tensor, pb_c_init: float, pb_c_base: float,
                  signed_discount_factor: float,
                  qtransform: qtransforms.QTransform = qtransforms.unvisited_as_minimum
                  ) -> tf.Tensor:
  """Action [B] int32 with the highest pUCT score at `node` [B], lowest index on ties."""
  scores = puct_scores(tree, node, pb_c_init, pb_c_base, signed_discount_factor, qtransform)
  return first_argmax(scores)


def puct(pb_c_init: float, pb_c_base: float, signed_discount_factor: float,
         qtransform: qtransforms.QTransform = qtransforms.unvisited_as_minimum) -> SelectActionFn:
  """pUCT with these constants and Q transform as the search's `SelectActionFn`."""
  return functools.partial(select_action, pb_c_init=pb_c_init, pb_c_base=pb_c_base,
                           signed_discount_factor=signed_discount_factor, qtransform=qtransform)


def first_argmax(scores: tf.Tensor) -> tf.Tensor:
  """Index [B] int32 of the highest of `scores` [B, A], the lowest one on ties (as tf.argmax).

  Two plain reductions (the maximum, then the lowest index holding it) instead of tf.argmax,
  whose (value, index) reduction XLA on CPU runs element by element: on 4,674 actions it took
  ~30x as long as one pass over the scores, and selection runs once per tree level.
  """
  best = tf.reduce_max(scores, axis=-1, keepdims=True)
  num_actions = scores.shape[-1]
  indices = tf.range(num_actions, dtype=tf.int32) + tf.zeros_like(scores, tf.int32)
  return tf.reduce_min(tf.where(scores == best, indices, num_actions), axis=-1)
