"""Tests of networks.transforms against the paper's definitions, with hand-derived values."""

import numpy as np
import pytest
import tensorflow as tf

from networks import transforms


def test_value_transform_matches_hand_values():
  # h(3) = sqrt(4) - 1 + 0.003; h(-8) = -(sqrt(9) - 1) - 0.008; h(0) = 0.
  np.testing.assert_allclose(transforms.value_transform(tf.constant([3.0, -8.0, 0.0])),
                             [1.003, -2.008, 0.0], rtol=1e-6)


@pytest.mark.parametrize('dtype, rtol', [(np.float32, 1e-4), (np.float64, 1e-12)])
def test_inverse_value_transform_round_trips(dtype, rtol):
  # Tiny magnitudes included: the naive closed form loses all float32 digits below about 1e-3.
  magnitudes = np.logspace(-6, 4, 2001)
  x = np.concatenate([-magnitudes, [0.0], magnitudes]).astype(dtype)
  round_trip = transforms.inverse_value_transform(transforms.value_transform(tf.constant(x))).numpy()
  assert round_trip.dtype == dtype
  np.testing.assert_allclose(round_trip, x, rtol=rtol, atol=0)


def test_inverse_value_transform_inverts_hand_values():
  np.testing.assert_allclose(transforms.inverse_value_transform(tf.constant([1.003, -2.008])),
                             [3.0, -8.0], rtol=1e-5)


def test_two_hot_splits_mass_between_neighbouring_bins():
  # Support -2..2 (indices 0..4): 0.25 puts 0.75 on bin 0 and 0.25 on bin 1; -1.5 halves its
  # mass between bins -2 and -1; 2.0, the top end, puts all of it on bin 2.
  np.testing.assert_array_equal(transforms.two_hot(tf.constant([0.25, -1.5, 2.0]), 5),
                                [[0, 0, 0.75, 0.25, 0], [0.5, 0.5, 0, 0, 0], [0, 0, 0, 0, 1]])


def test_two_hot_expectation_recovers_values_inside_support():
  x = tf.constant(np.linspace(-10, 10, 401), tf.float32)
  probabilities = transforms.two_hot(x, 21)
  expectation = tf.reduce_sum(probabilities * transforms.support_values(21), axis=-1)
  np.testing.assert_allclose(tf.reduce_sum(probabilities, axis=-1), np.ones(401), atol=1e-6)
  np.testing.assert_allclose(expectation, x, atol=1e-5)
  # Dyadic values are recovered bit for bit.
  dyadic = tf.constant([-10.0, -3.5, 0.0, 0.25, 7.75, 10.0])
  np.testing.assert_array_equal(
      tf.reduce_sum(transforms.two_hot(dyadic, 21) * transforms.support_values(21), axis=-1), dyadic)


def test_two_hot_clips_values_outside_support():
  probabilities = transforms.two_hot(tf.constant([25.0, -1000.0]), 21)
  np.testing.assert_array_equal(probabilities, tf.one_hot([20, 0], 21))


def test_support_to_scalar_inverts_scalar_to_support():
  # Values up to h^-1(10) ~ 117.4 fit a support of 21 bins.
  x = tf.constant([-100.0, -3.0, 0.0, 0.5, 42.0, 117.0])
  logits = tf.math.log(transforms.scalar_to_support(x, 21))
  np.testing.assert_allclose(transforms.support_to_scalar(logits), x, rtol=1e-4, atol=1e-5)


def test_support_to_scalar_of_uniform_logits_is_zero():
  np.testing.assert_allclose(transforms.support_to_scalar(tf.zeros([3, 601])), np.zeros(3), atol=1e-4)


def test_scale_gradient_halves_gradient_and_keeps_value():
  x = tf.Variable([1.0, -2.0, 3.0])
  weights = tf.constant([2.0, 3.0, 4.0])
  with tf.GradientTape() as tape:
    scaled = transforms.scale_gradient(x, 0.5)
    loss = tf.reduce_sum(scaled * weights)
  np.testing.assert_array_equal(scaled, x)
  np.testing.assert_allclose(tape.gradient(loss, x), [1.0, 1.5, 2.0])


def test_min_max_scale_per_sample():
  latent = tf.constant([[[1.0, 3.0], [2.0, 5.0]], [[-1.0, -1.0], [-1.0, -1.0]]])
  # First sample: (x - 1) / 4; second is constant, so the epsilon floor maps it to zeros.
  np.testing.assert_allclose(transforms.min_max_scale(latent),
                             [[[0.0, 0.5], [0.25, 1.0]], [[0.0, 0.0], [0.0, 0.0]]])
