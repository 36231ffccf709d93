"""Per-row random numbers from integer keys, as pure tensor functions that compile under XLA.

Sampled MuZero draws K actions at every node it expands, inside the compiled search, where one
batched call expands a node in each of B trees. TensorFlow's stateless ops take one seed per
call, so the rows of a batch would share their draws' seed; here each row carries its own key
(in the latent the search stores, hence below 2^24 so that float32 holds it exactly), the
numbers of a row depend on its key alone, and a child's key is a hash of its parent's key and
the slot that leads to it. The hash is a 32-bit integer mixer (two xor-shift-multiply rounds,
multiplier 0x45d9f3b) computed in int64 with products below 2^63, so no op overflows.
"""

import math

import tensorflow as tf

KEY_BITS = 24
_MASK_32 = 0xFFFFFFFF
_MULTIPLIER = 0x45d9f3b
_STREAM_STEP = 0x61c88647  # 2^32 / golden ratio: spreads consecutive counters apart.


def _mix(x: tf.Tensor) -> tf.Tensor:
  """A bijection of 32-bit values (int64 tensors in [0, 2^32))."""
  for _ in range(2):
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))
    x = tf.bitwise.bitwise_and(x * _MULTIPLIER, _MASK_32)
  return tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))


def _hashes(keys: tf.Tensor, count: int) -> tf.Tensor:
  """[B] keys -> [B, count] 32-bit hashes of (key, 0 .. count - 1)."""
  mixed_keys = _mix(tf.cast(keys, tf.int64))[:, None]
  counters = tf.range(count, dtype=tf.int64)[None, :] * _STREAM_STEP
  return _mix(tf.bitwise.bitwise_and(mixed_keys + counters, _MASK_32))


def uniforms(keys: tf.Tensor, count: int) -> tf.Tensor:
  """[B] integer keys -> [B, count] float32 uniforms in (0, 1), 24 bits each."""
  top_bits = tf.bitwise.right_shift(_hashes(keys, count), 32 - KEY_BITS)
  return (tf.cast(top_bits, tf.float32) + 0.5) / float(2 ** KEY_BITS)


def normals(keys: tf.Tensor, shape) -> tf.Tensor:
  """[B] integer keys -> [B, *shape] float32 standard normals (Box-Muller)."""
  count = math.prod(shape)
  pairs = uniforms(keys, 2 * count)
  radius = tf.sqrt(-2.0 * tf.math.log(pairs[:, :count]))
  values = radius * tf.cos(2.0 * math.pi * pairs[:, count:])
  return tf.reshape(values, [-1] + list(shape))


def child_keys(keys: tf.Tensor, slots: tf.Tensor) -> tf.Tensor:
  """The int32 keys (< 2^24) of the children reached from rows with `keys` [B] by `slots` [B]."""
  keys, slots = tf.cast(keys, tf.int64), tf.cast(slots, tf.int64)
  mixed = _mix(tf.bitwise.bitwise_xor(_mix(keys), slots + 1))
  return tf.cast(tf.bitwise.right_shift(mixed, 32 - KEY_BITS), tf.int32)
