"""The consistency losses (EfficientZero's projected cosine, the latent squared distance): their
values and where their gradients go."""

import numpy as np
import tensorflow as tf

from networks import consistency


def test_zero_gap_gives_the_minimum_and_scale_does_not_matter():
  target = tf.constant([[1.0, 2.0, -3.0], [0.5, 0.0, 0.0]])
  # Same direction (any positive scale): cosine 1, loss -1, its minimum.
  np.testing.assert_allclose(consistency.negative_cosine_similarity(3.0 * target, target).numpy(),
                             [-1.0, -1.0], rtol=1e-6)
  # Opposite directions: +1; orthogonal: 0.
  np.testing.assert_allclose(consistency.negative_cosine_similarity(
      tf.constant([[-1.0, 0.0], [0.0, 1.0]]), tf.constant([[1.0, 0.0], [1.0, 0.0]])).numpy(),
                             [1.0, 0.0], atol=1e-6)


def test_gradient_is_stopped_on_the_target_branch():
  prediction = tf.Variable([[1.0, 0.0]])
  target = tf.Variable([[1.0, 1.0]])
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(consistency.negative_cosine_similarity(prediction, target))
  grad_prediction, grad_target = tape.gradient(loss, [prediction, target])
  assert grad_target is None
  # d(-cos)/dp at p = (1, 0), t = (1, 1)/sqrt(2): -(t - cos p) / |p| = -(0, 1/sqrt(2)).
  np.testing.assert_allclose(grad_prediction.numpy(), [[0.0, -1 / np.sqrt(2)]], atol=1e-6)


def test_heads_map_spatial_latents_to_embeddings():
  heads = consistency.ConsistencyHeads(16)
  latent = tf.zeros([3, 2, 2, 4])
  assert heads.project(latent).shape == (3, 16)
  assert heads.predict(latent).shape == (3, 16)


def test_squared_distance_sums_over_every_entry_and_stops_the_target_gradient():
  prediction = tf.Variable([[[1.0, 0.0], [0.5, 2.0]], [[0.0, 0.0], [0.0, 0.0]]])
  target = tf.Variable([[[0.0, 0.0], [0.5, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
  with tf.GradientTape() as tape:
    distances = consistency.squared_distance(prediction, target)
    loss = tf.reduce_sum(distances)
  # 1^2 + 0 + 0 + 2^2 for the first sample; agreement gives 0, the minimum.
  np.testing.assert_allclose(distances.numpy(), [5.0, 0.0])
  grad_prediction, grad_target = tape.gradient(loss, [prediction, target])
  assert grad_target is None
  np.testing.assert_allclose(grad_prediction.numpy(), 2.0 * (prediction - target).numpy())
