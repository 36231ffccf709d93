"""Tests of networks.squashed_gaussian, the policy over continuous actions."""

import math

import numpy as np
import pytest
import tensorflow as tf

from networks import squashed_gaussian


def _parameters(mean, log_std):
  """Head outputs whose mean and log std are the given ones (inverting both squashes)."""
  bound = squashed_gaussian.MEAN_BOUND
  mean = bound * np.arctanh(np.asarray(mean, np.float64) / bound)
  fraction = (np.asarray(log_std, np.float64) - squashed_gaussian.LOG_STD_MIN) / (
      squashed_gaussian.LOG_STD_MAX - squashed_gaussian.LOG_STD_MIN)
  raw = np.log(fraction / (1 - fraction)) - math.log(
      -squashed_gaussian.LOG_STD_MIN / squashed_gaussian.LOG_STD_MAX)
  return tf.constant(np.concatenate([mean, raw], axis=-1), tf.float32)


def test_raw_scale_zero_is_unit_std_and_means_and_scales_stay_in_their_bounds():
  mean, log_std = squashed_gaussian.mean_and_log_std(
      tf.constant([[0.5, -100.0, 100.0, 0.0, -100.0, 100.0]]))
  np.testing.assert_allclose(mean, [[5 * math.tanh(0.1), -5.0, 5.0]], rtol=1e-6)
  np.testing.assert_allclose(log_std, [[0.0, squashed_gaussian.LOG_STD_MIN,
                                        squashed_gaussian.LOG_STD_MAX]], atol=1e-6)


def test_samples_are_tanh_of_mean_plus_std_times_normal_and_stay_in_bounds():
  parameters = _parameters([[0.5, -4.999]], [[math.log(2.0), 0.0]])
  normals = tf.constant([[[1.0, 0.0], [-1.0, 50.0], [0.0, -3.0]]])
  actions = squashed_gaussian.sample(parameters, normals).numpy()
  np.testing.assert_allclose(actions[0, :, 0], np.tanh([2.5, -1.5, 0.5]), rtol=1e-5)
  assert actions.shape == (1, 3, 2)
  assert np.all(actions >= -1.0) and np.all(actions <= 1.0)
  wide = squashed_gaussian.sample(parameters, normals, std_scale=2.0).numpy()
  np.testing.assert_allclose(wide[0, :, 0], np.tanh([4.5, -3.5, 0.5]), rtol=1e-5)


def test_log_prob_is_the_change_of_variables_density():
  # One dimension, mean 0, std 1: at a = tanh(1), log N(1; 0, 1) - log(1 - tanh(1)^2).
  parameters = _parameters([[0.0]], [[0.0]])
  actions = tf.constant([[[0.0], [math.tanh(1.0)]]])
  expected = [-0.5 * math.log(2 * math.pi),
              -0.5 - 0.5 * math.log(2 * math.pi) - math.log(1 - math.tanh(1.0) ** 2)]
  np.testing.assert_allclose(squashed_gaussian.log_prob(parameters, actions)[0], expected,
                             rtol=1e-5)
  # Dimensions add up; std_scale 2 is the density of N(0, 2^2) squashed.
  two = squashed_gaussian.log_prob(_parameters([[0.0, 0.0]], [[0.0, 0.0]]),
                                   tf.constant([[[0.0, math.tanh(1.0)]]]))
  np.testing.assert_allclose(two[0, 0], sum(expected), rtol=1e-5)
  wide = squashed_gaussian.log_prob(parameters, tf.constant([[[0.0]]]), std_scale=2.0)
  np.testing.assert_allclose(wide[0, 0], -math.log(2.0) - 0.5 * math.log(2 * math.pi), rtol=1e-5)


@pytest.mark.parametrize('mean, log_std', [(0.0, 0.0), (1.5, -1.0), (-0.7, 0.3)])
def test_density_integrates_to_one_over_the_bounds(mean, log_std):
  # Midpoint rule on [-1, 1] in float64 terms of the float32 density; the tails near the bounds
  # hold the rest, which for these parameters is below 1e-3.
  points = np.linspace(-1.0, 1.0, 200_001)
  middles = (points[1:] + points[:-1]) / 2
  density = np.exp(squashed_gaussian.log_prob(
      _parameters([[mean]], [[log_std]]), tf.constant(middles[None, :, None], tf.float32)
  ).numpy().astype(np.float64))
  assert np.sum(density * np.diff(points)) == pytest.approx(1.0, abs=2e-3)


def test_actions_at_the_bounds_have_a_finite_density():
  log_probs = squashed_gaussian.log_prob(_parameters([[3.0]], [[-2.0]]),
                                         tf.constant([[[1.0], [-1.0]]]))
  assert np.all(np.isfinite(log_probs))
