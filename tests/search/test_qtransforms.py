"""Min-max normalisation of Q, with hand-computed values."""

import numpy as np
import tensorflow as tf

from search import qtransforms


def test_empty_statistics_leave_q_unchanged():
  stats = qtransforms.init_min_max_stats(2)
  q_values = tf.constant([[-3.0, 0.5], [7.0, 0.0]])
  np.testing.assert_array_equal(qtransforms.normalize_q(stats, q_values).numpy(),
                                q_values.numpy())


def test_one_value_seen_leaves_q_unchanged():
  # The paper's rule: no scale before maximum > minimum.
  stats = qtransforms.update_min_max_stats(qtransforms.init_min_max_stats(1),
                                           tf.constant([2.0]), tf.constant([True]))
  np.testing.assert_array_equal(qtransforms.normalize_q(stats, tf.constant([[2.0, -1.0]])),
                                [[2.0, -1.0]])


def test_normalises_each_tree_with_its_own_bounds_into_unit_interval():
  stats = qtransforms.init_min_max_stats(2)
  for q_value, is_update in [([-2.0, 10.0], [True, True]), ([2.0, 0.0], [True, False]),
                             ([100.0, 20.0], [False, True])]:
    stats = qtransforms.update_min_max_stats(stats, tf.constant(q_value), tf.constant(is_update))
  np.testing.assert_array_equal(stats.minimum.numpy(), [-2.0, 10.0])
  np.testing.assert_array_equal(stats.maximum.numpy(), [2.0, 20.0])
  normalized = qtransforms.normalize_q(stats, tf.constant([[-2.0, 0.0, 2.0], [10.0, 12.5, 20.0]]))
  np.testing.assert_allclose(normalized.numpy(), [[0.0, 0.5, 1.0], [0.0, 0.25, 1.0]])


def test_known_bounds_start_the_statistics_and_widen_when_exceeded():
  stats = qtransforms.init_min_max_stats(1, value_bounds=(-1.0, 1.0))
  np.testing.assert_allclose(qtransforms.normalize_q(stats, tf.constant([[0.5, -1.0]])).numpy(),
                             [[0.75, 0.0]])
  stats = qtransforms.update_min_max_stats(stats, tf.constant([3.0]), tf.constant([True]))
  np.testing.assert_allclose(qtransforms.normalize_q(stats, tf.constant([[1.0, 3.0]])).numpy(),
                             [[0.5, 1.0]])
