"""The search's random numbers, drawn inside its compiled program from one stateless seed.

TensorFlow 2.8 has no XLA kernel for `tf.random.stateless_gamma`. Drawing the root's Dirichlet
noise with it needed a plain `tf.function` around the compiled search, and that second call
cost ~50 us, a tenth of a 2-action, B = 1 search (BENCHMARKS.md, "Search: the call path"). Here
Gamma variables are made from normal and uniform ones, which XLA draws, by Marsaglia and Tsang's
method ("A simple method for generating gamma variables", ACM TOMS 2000). They are kept as
logarithms, so that Dirichlet noise with a tiny alpha (Go's 0.03) never underflows to 0 / 0.
"""

import math
from typing import List, Sequence

import tensorflow as tf

# Candidates drawn per Gamma variable. Marsaglia and Tsang accept at least 95% of candidates for
# every shape >= 1, so all 8 are refused with probability < 0.05**8 ~ 4e-11; that variable then
# takes the shape's d (defined below), the mode of Gamma(d + 1/3) up to 1/3.
_CANDIDATES = 8
# Smallest uniform drawn, so that logarithms stay finite.
_TINY = 1e-30


def seeds(seed: tf.Tensor, count: int) -> List[tf.Tensor]:
  """`count` independent [2] seeds for stateless ops from one [2] seed."""
  return [tf.random.experimental.stateless_fold_in(seed, index) for index in range(count)]


def log_gamma(shape: Sequence[int], alpha: float, seed: tf.Tensor) -> tf.Tensor:
  """log of Gamma(alpha, 1) variables of the static `shape` (float32), for alpha > 0.

  For a = alpha + 1 >= 1, with d = a - 1/3 and c = 1 / sqrt(9 d): a standard normal x with
  v = (1 + c x)^3 > 0 is accepted when log(u) < x^2 / 2 + d - d v + d log(v) for a uniform u, and
  d v is then Gamma(a). Gamma(alpha) is Gamma(alpha + 1) * u'^(1 / alpha) for another uniform u'
  (the same paper), which is log Gamma(alpha + 1) + log(u') / alpha in logs.
  """
  if not alpha > 0:
    raise ValueError(f'alpha = {alpha} is not allowed; a Gamma shape must be > 0.')
  normal_seed, accept_seed, boost_seed = seeds(seed, 3)
  candidate_shape = [*shape, _CANDIDATES]
  d = alpha + 1.0 - 1.0 / 3.0
  log_d = math.log(d)
  c = 1.0 / (9.0 * d)**0.5
  x = tf.random.stateless_normal(candidate_shape, normal_seed)
  v = (1.0 + c * x)**3
  log_v = tf.math.log(tf.maximum(v, _TINY))
  log_u = tf.math.log(tf.random.stateless_uniform(candidate_shape, accept_seed, minval=_TINY))
  accepted = (v > 0) & (log_u < 0.5 * x * x + d - d * v + d * log_v)
  # The first accepted candidate: the highest-scoring of (accepted, earlier index).
  first = tf.argmax(tf.cast(accepted, tf.int32) * (_CANDIDATES - tf.range(_CANDIDATES)), axis=-1,
                    output_type=tf.int32)
  log_dv = tf.gather(log_d + log_v, first, batch_dims=len(shape))
  log_dv = tf.where(tf.reduce_any(accepted, axis=-1), log_dv, log_d)
  log_boost = tf.math.log(tf.random.stateless_uniform(shape, boost_seed, minval=_TINY)) / alpha
  return log_dv + log_boost


def gumbel(shape: Sequence[int], seed: tf.Tensor) -> tf.Tensor:
  """Standard Gumbel variables -log(-log(u)) of `shape` (float32)."""
  uniform = tf.random.stateless_uniform(shape, seed, minval=_TINY)
  return -tf.math.log(tf.maximum(-tf.math.log(uniform), _TINY))
