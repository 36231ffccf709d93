"""The torsos' LayerNorm: Sonnet's function, and a graph that XLA's CPU backend compiles quickly."""

import numpy as np
import sonnet as snt
import tensorflow as tf

from networks import torsos


def _with_weights(norm: snt.LayerNorm, inputs: np.ndarray, seed: int) -> snt.LayerNorm:
  norm(inputs)  # Creates the variables.
  rng = np.random.default_rng(seed)
  norm.scale.assign(rng.normal(size=norm.scale.shape).astype(np.float32))
  norm.offset.assign(rng.normal(size=norm.offset.shape).astype(np.float32))
  return norm


def test_layer_norm_is_sonnets_last_axis_layer_norm():
  # Channels with different means and spreads at every position.
  inputs = (np.random.default_rng(0).normal(size=(2, 3, 3, 40)) * np.arange(1, 41) +
            np.arange(40)).astype(np.float32)
  ours = _with_weights(torsos.LayerNorm(), inputs, seed=1)
  sonnets = _with_weights(snt.LayerNorm(-1, create_scale=True, create_offset=True), inputs,
                          seed=1)
  np.testing.assert_allclose(ours(inputs), sonnets(inputs), rtol=1e-5, atol=1e-5)
  # Same variables, so checkpoints of either restore into the other.
  assert ([(v.name, v.shape) for v in ours.variables] ==
          [(v.name, v.shape) for v in sonnets.variables])


def _optimized_hlo(norm: snt.Module, inputs: tf.Tensor) -> str:
  compiled = tf.function(norm, jit_compile=True, autograph=False)
  return compiled.experimental_get_compiler_ir(inputs)(stage='optimized_hlo')


def test_xla_keeps_the_layer_norm_free_of_reduce_windows():
  """XLA's CPU backend rewrites reductions over more than 32 elements into reduce-windows, slow
  to compile; the moments as dot products have none (Sonnet's own LayerNorm has)."""
  inputs = tf.ones([1, 8, 8, 256])
  assert 'reduce-window(' not in _optimized_hlo(torsos.LayerNorm(), inputs)
  assert 'reduce-window(' in _optimized_hlo(
      snt.LayerNorm(-1, create_scale=True, create_offset=True), inputs)
