"""Scalar transforms, categorical supports and latent scaling from the MuZero paper (Appendix F).

Value and reward are predicted as distributions over the integers -S..S (a support of size
2S + 1) of the transformed scalar h(x). h compresses large returns (h(10000) is about 110) so that
a few hundred bins cover Atari scores; it is invertible, so the scalar is recovered as
h^-1(E[support]).

All functions keep the dtype of their input; the transforms are written in forms free of
catastrophic cancellation so that float32 round-trips h^-1(h(x)) to about 1e-6 relative error over
[-1e4, 1e4], small |x| included.
"""

import tensorflow as tf

VALUE_TRANSFORM_EPSILON = 0.001
LATENT_SCALE_EPSILON = 1e-5


def value_transform(x: tf.Tensor, epsilon: float = VALUE_TRANSFORM_EPSILON) -> tf.Tensor:
  """h(x) = sign(x) (sqrt(|x| + 1) - 1) + epsilon x, elementwise.

  sqrt(|x| + 1) - 1 is computed as |x| / (sqrt(|x| + 1) + 1), which is equal but does not cancel
  for small |x|.
  """
  x = tf.convert_to_tensor(x)
  magnitude = tf.abs(x)
  return tf.sign(x) * magnitude / (tf.sqrt(magnitude + 1) + 1) + epsilon * x


def inverse_value_transform(y: tf.Tensor, epsilon: float = VALUE_TRANSFORM_EPSILON) -> tf.Tensor:
  """The exact inverse of `value_transform`, elementwise.

  The textbook closed form is sign(y) (t^2 - 1) with t = (sqrt(1 + 4 eps (|y| + 1 + eps)) - 1) / (2 eps);
  both subtractions lose most float32 digits when |y| is small. With s = sqrt(1 + 4 eps (|y| + 1 + eps)),
  the same quantity is rewritten as t = 2 (|y| + 1 + eps) / (s + 1) and
  t - 1 = 2 |y| (s + 1 - 2 eps + 4 eps^2 / (s + 1 + 2 eps)) / (s + 1)^2, a sum of positive terms,
  and t^2 - 1 = (t - 1)(t + 1).
  """
  y = tf.convert_to_tensor(y)
  magnitude = tf.abs(y)
  root = tf.sqrt(1 + 4 * epsilon * (magnitude + 1 + epsilon))
  t = 2 * (magnitude + 1 + epsilon) / (root + 1)
  t_minus_one = (2 * magnitude * (root + 1 - 2 * epsilon + 4 * epsilon**2 / (root + 1 + 2 * epsilon))
                 / tf.square(root + 1))
  return tf.sign(y) * t_minus_one * (t + 1)


def support_values(support_size: int, dtype: tf.DType = tf.float32) -> tf.Tensor:
  """[support_size] the integers -S..S with S = (support_size - 1) // 2."""
  half = (support_size - 1) // 2
  return tf.range(-half, half + 1, dtype=dtype)


def two_hot(x: tf.Tensor, support_size: int) -> tf.Tensor:
  """[...] scalars -> [..., support_size] probabilities on the integer bins -S..S.

  The mass is split between the two bins around x so that the expectation over the support is x
  exactly. Values outside [-S, S] are clipped to the nearest end: the whole mass goes to bin -S
  or S, so targets beyond the support are under-estimated rather than dropped.
  """
  x = tf.convert_to_tensor(x)
  half = (support_size - 1) // 2
  x = tf.clip_by_value(x, -half, half)
  # At x = S the upper bin would fall off the support; put the mass on bin S from bin S-1 instead.
  lower = tf.minimum(tf.floor(x), half - 1)
  upper_weight = x - lower
  lower_index = tf.cast(lower, tf.int32) + half
  return (tf.one_hot(lower_index, support_size, dtype=x.dtype) * (1 - upper_weight)[..., None]
          + tf.one_hot(lower_index + 1, support_size, dtype=x.dtype) * upper_weight[..., None])


def scalar_to_support(x: tf.Tensor, support_size: int,
                      epsilon: float = VALUE_TRANSFORM_EPSILON) -> tf.Tensor:
  """[...] value or reward -> [..., support_size] categorical target: two_hot(h(x))."""
  return two_hot(value_transform(x, epsilon), support_size)


def support_to_scalar(logits: tf.Tensor, epsilon: float = VALUE_TRANSFORM_EPSILON) -> tf.Tensor:
  """[..., support_size] logits -> [...] scalar: h^-1 of the expectation over the support."""
  logits = tf.convert_to_tensor(logits)
  support = support_values(logits.shape[-1], logits.dtype)
  expectation = tf.reduce_sum(tf.nn.softmax(logits) * support, axis=-1)
  return inverse_value_transform(expectation, epsilon)


def scale_gradient(x: tf.Tensor, scale: float) -> tf.Tensor:
  """Identity on the forward pass; multiplies the gradient flowing back through x by `scale`.

  The learner uses scale 0.5 on the latent between unroll steps so that the dynamics function's
  total gradient stays the same whatever the unroll length (paper, Appendix G).
  """
  return x * scale + tf.stop_gradient(x) * (1 - scale)


def min_max_scale(latent: tf.Tensor, epsilon: float = LATENT_SCALE_EPSILON) -> tf.Tensor:
  """Rescales each sample of [B, ...] to [0, 1] over all its non-batch entries.

  Keeps latents of the representation and of every dynamics step on one scale, like the action
  inputs (paper, Appendix G). A sample with all-equal entries would divide by zero, so the range
  is floored at `epsilon` (the sample then maps to zeros).
  """
  axes = list(range(1, latent.shape.rank))
  minimum = tf.reduce_min(latent, axis=axes, keepdims=True)
  maximum = tf.reduce_max(latent, axis=axes, keepdims=True)
  return (latent - minimum) / tf.maximum(maximum - minimum, epsilon)
