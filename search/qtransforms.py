"""Q transforms: the value term selection reads for each child, and the paper's MinMaxStats.

A Q transform (mctx's `qtransforms`) maps the statistics of one node per tree to a [B, A] value
term for its children; selection rules take one as a function, so a config's choice of rule is
mapped to a function once (`UNVISITED_Q_TRANSFORMS`) rather than tested in the search loop.
pUCT's transforms normalise Q with the tree's running min-max statistics, below; Gumbel MuZero's
completed Q lives with the rest of Gumbel in `search.gumbel`.

MuZero's values and rewards have an unknown, environment-dependent scale, so pUCT compares
Q values rescaled by the smallest and largest Q seen so far in the same tree. As in the paper's
pseudocode the bounds are running statistics updated during backup (never shrunk), and
`normalize_q` returns Q unchanged until two different values have been seen.

What backup records is the Q of every edge on the path, reward + signed discount * child value:
the very quantity pUCT normalises (the published pseudocode records node.value() but normalises
reward + discount * value; recording what is normalised keeps every visited edge's normalised Q
in [0, 1]). The root, reached by no edge, records nothing.
"""

from typing import Callable, Mapping, NamedTuple, Optional, Tuple

import tensorflow as tf


class MinMaxStats(NamedTuple):
  """Running bounds of the Q values backed up in each of the B trees.

  Attributes:
    minimum: [B] smallest Q seen so far (+inf before the first backup unless bounds are known).
    maximum: [B] largest Q seen so far (-inf before the first backup unless bounds are known).
  """

  minimum: tf.Tensor
  maximum: tf.Tensor


def init_min_max_stats(batch_size: int,
                       value_bounds: Optional[Tuple[float, float]] = None) -> MinMaxStats:
  """Empty statistics, or statistics that start at known bounds (the paper's KnownBounds)."""
  minimum, maximum = (float('inf'), float('-inf')) if value_bounds is None else value_bounds
  return MinMaxStats(minimum=tf.fill([batch_size], tf.constant(minimum, tf.float32)),
                     maximum=tf.fill([batch_size], tf.constant(maximum, tf.float32)))


def update_min_max_stats(stats: MinMaxStats, q_value: tf.Tensor,
                         is_update: tf.Tensor) -> MinMaxStats:
  """Widens the bounds to include `q_value` [B] in the trees where `is_update` [B] is true."""
  return MinMaxStats(
      minimum=tf.where(is_update, tf.minimum(stats.minimum, q_value), stats.minimum),
      maximum=tf.where(is_update, tf.maximum(stats.maximum, q_value), stats.maximum))


def normalize_q(stats: MinMaxStats, q_values: tf.Tensor) -> tf.Tensor:
  """Maps Q values [B, ...] to [0, 1] with each tree's bounds, or leaves them as they are.

  Args:
    stats: Bounds of the B trees.
    q_values: [B, ...] Q values from the same trees (any trailing shape, e.g. [B, A]).

  Returns:
    [B, ...] (q - minimum) / (maximum - minimum) where maximum > minimum, else q unchanged
    (the paper's rule: no scale is known before two different Q values were seen).
  """
  extra_dims = [1] * (len(q_values.shape) - 1)
  minimum = tf.reshape(stats.minimum, [-1] + extra_dims)
  maximum = tf.reshape(stats.maximum, [-1] + extra_dims)
  has_range = maximum > minimum
  # The where also keeps inf - inf out of the arithmetic while the bounds are still empty.
  scale = tf.where(has_range, maximum - minimum, tf.ones_like(maximum))
  offset = tf.where(has_range, minimum, tf.zeros_like(minimum))
  return tf.where(has_range, (q_values - offset) / scale, q_values)


class NodeStatistics(NamedTuple):
  """What a Q transform reads of one node per tree (`selection.node_statistics` gathers it).

  Attributes:
    q_values: [B, A] Q(s, a) = r + signed_discount * mean child value, seen by the player to
      move at s; 0 for unvisited children.
    visits: [B, A] int32 visit count of each child.
    prior: [B, A] prior of each action (0 for actions illegal at the root).
    value: [B] network value of the node (player to move there).
    selectable: [B, A] bool, the actions selection may take (the legal ones at the root, all
      below it).
    min_max_stats: Running Q bounds of each tree.
  """

  q_values: tf.Tensor
  visits: tf.Tensor
  prior: tf.Tensor
  value: tf.Tensor
  selectable: tf.Tensor
  min_max_stats: MinMaxStats


# NodeStatistics -> [B, A] value term of each child.
QTransform = Callable[[NodeStatistics], tf.Tensor]


def unvisited_as_minimum(node: NodeStatistics) -> tf.Tensor:
  """Normalised Q of visited children, 0 (the worst) for unvisited ones: the paper's rule."""
  return tf.where(node.visits > 0, normalize_q(node.min_max_stats, node.q_values),
                  tf.zeros_like(node.q_values))


def unvisited_as_parent(node: NodeStatistics) -> tf.Tensor:
  """Normalised Q of visited children, the node's own normalised network value for unvisited
  ones (seen by the player to move at the node, who is the one choosing among the Q)."""
  completed = tf.where(node.visits > 0, node.q_values,
                       node.value[:, None] + tf.zeros_like(node.q_values))
  return normalize_q(node.min_max_stats, completed)


# `search.config.UNVISITED_Q`, the user-facing names, to the transforms pUCT takes.
UNVISITED_Q_TRANSFORMS: Mapping[str, QTransform] = {
    'minimum': unvisited_as_minimum,
    'parent': unvisited_as_parent,
}
