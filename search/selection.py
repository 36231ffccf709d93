"""pUCT action selection inside the tree, exactly as the MuZero paper's pseudocode scores it.

score(s, a) = Qn(s, a) + P(s, a) * sqrt(N(s)) / (1 + N(s, a)) * (c1 + log((N(s) + c2 + 1) / c2))

with Qn the min-max normalised Q(s, a) = r(s, a) + signed_discount * value(child) for visited
children and, for unvisited ones, 0 (the pseudocode's rule, unvisited_q='minimum') or the
normalised network value of s (unvisited_q='parent', see `search.config.UNVISITED_Q`), and N(s)
the visit count of the node (see `tree.node_visits`). Ties go to the lowest action index. At the root, actions outside the
legal mask score -inf; below the root every action is allowed (the model knows no rules there,
as in the paper).
"""

import tensorflow as tf

from search import qtransforms
from search import tree as tree_lib


def puct_scores(tree: tree_lib.Tree, node: tf.Tensor, pb_c_init: float, pb_c_base: float,
                signed_discount_factor: float, unvisited_q: str = 'minimum') -> tf.Tensor:
  """pUCT score of every action at `node` [B] of each tree: [B, A] (-inf: not selectable)."""
  visits = tree_lib.gather_node_rows(tree.children_visits, node)
  q_values = tree_lib.children_q_values(
      visits, tree_lib.gather_node_rows(tree.children_value_sums, node),
      tree_lib.gather_node_rows(tree.children_rewards, node), signed_discount_factor)
  if unvisited_q == 'parent':
    # The node's value is seen by the player to move there, who is the one choosing among Q.
    parent_value = tf.gather(tree.raw_values, node, batch_dims=1)[:, None]
    value_scores = qtransforms.normalize_q(
        tree.min_max_stats, tf.where(visits > 0, q_values, parent_value + tf.zeros_like(q_values)))
  else:
    value_scores = tf.where(visits > 0, qtransforms.normalize_q(tree.min_max_stats, q_values),
                            tf.zeros_like(q_values))

  parent_visits = tf.cast(tree_lib.node_visits(visits), tf.float32)[:, None]
  exploration_weight = (pb_c_init + tf.math.log((parent_visits + pb_c_base + 1.0) / pb_c_base)
                       ) * tf.sqrt(parent_visits) / (1.0 + tf.cast(visits, tf.float32))
  prior_scores = exploration_weight * tree_lib.gather_node_rows(tree.children_prior, node)

  is_illegal = tf.logical_and(tf.equal(node, tree_lib.ROOT_INDEX)[:, None],
                              tf.logical_not(tree.root_legal_actions))
  return tf.where(is_illegal, tf.fill(tf.shape(q_values), float('-inf')),
                  value_scores + prior_scores)


def select_action(tree: tree_lib.Tree, node: tf.Tensor, pb_c_init: float, pb_c_base: float,
                  signed_discount_factor: float, unvisited_q: str = 'minimum') -> tf.Tensor:
  """Action [B] int32 with the highest pUCT score at `node` [B], lowest index on ties."""
  scores = puct_scores(tree, node, pb_c_init, pb_c_base, signed_discount_factor, unvisited_q)
  return first_argmax(scores)


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
