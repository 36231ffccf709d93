"""The search's random numbers follow their distributions and depend on the seed only.

They are drawn as the search draws them, inside a function compiled with XLA (whose stateless
random ops give other numbers than the eager ones). Distributions are checked with the
Kolmogorov-Smirnov distance of 100,000 draws under a fixed seed: 0.01 is about five times the
distance expected from the right distribution (0.0022 on average), and a wrong shape (alpha off
by 10%, or Exp(1) in place of a Gumbel) is above 0.02.
"""

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from search import noise

_SHAPE = [100, 1000]


def _seed(value: int) -> tf.Tensor:
  return tf.constant([value, 0], tf.int64)


def _log_gamma(shape, alpha: float, seed: int) -> np.ndarray:
  return tf.function(lambda seed: noise.log_gamma(shape, alpha, seed),
                     jit_compile=True)(_seed(seed)).numpy()


def _gumbel(shape, seed: int) -> np.ndarray:
  return tf.function(lambda seed: noise.gumbel(shape, seed), jit_compile=True)(_seed(seed)).numpy()


@pytest.mark.parametrize('alpha', [0.03, 0.25, 1.0, 4.0])
def test_log_gamma_draws_gamma_alpha_variables(alpha):
  draws = _log_gamma(_SHAPE, alpha, 0).ravel().astype(np.float64)
  assert np.isfinite(draws).all()
  # The distance on log scale: exp would underflow for alpha = 0.03.
  distance = stats.kstest(draws, lambda log_x: stats.gamma.cdf(np.exp(log_x), alpha)).statistic
  assert distance < 0.01
  wrong_shape = stats.kstest(draws, lambda log_x: stats.gamma.cdf(np.exp(log_x), 1.1 * alpha))
  assert wrong_shape.statistic > 0.02


def test_gumbel_draws_standard_gumbel_variables():
  draws = _gumbel(_SHAPE, 1).ravel()
  assert np.isfinite(draws).all()
  assert stats.kstest(draws, stats.gumbel_r.cdf).statistic < 0.01
  assert stats.kstest(draws, stats.expon.cdf).statistic > 0.02


def test_draws_depend_on_the_seed_only():
  for draw in (lambda seed: _log_gamma([3, 5], 0.25, seed), lambda seed: _gumbel([3, 5], seed)):
    np.testing.assert_array_equal(draw(7), draw(7))
    assert not np.any(draw(7) == draw(8))


def test_seeds_are_distinct():
  derived = np.stack([seed.numpy() for seed in noise.seeds(_seed(5), 3)])
  assert len({tuple(seed) for seed in derived}) == 3


@pytest.mark.parametrize('alpha', [0.0, -0.5, float('nan')])
def test_bad_alpha_is_reported(alpha):
  with pytest.raises(ValueError, match=rf'alpha = {alpha} is not allowed.*> 0'):
    noise.log_gamma([2], alpha, _seed(0))
