"""EfficientZero's self-supervised consistency heads and loss (Ye et al. 2021, section 4.1).

The latent the dynamics predicts k steps ahead should be the latent the representation gives the
observation at t + k. As in SimSiam (Chen and He 2021), both latents go through a projection,
the predicted branch also through a prediction head, and the loss is the negative cosine
similarity against the projected target with its gradient stopped, so that the representation is
not pulled towards the dynamics' errors (and nothing collapses to a constant). Only the learner
holds these heads: actors and search never need them.
"""

import sonnet as snt
import tensorflow as tf


class ConsistencyHeads(snt.Module):
  """Projection (latent -> embedding) and prediction (embedding -> embedding) MLPs.

  Spatial latents are flattened first. EfficientZero's projection is two hidden layers of 1024
  with batch normalisation and its predictor one hidden layer of 512; LayerNorm replaces batch
  normalisation here as it does in the rest of the network (WORKSPACE.md, deviations).
  """

  def __init__(self, size: int, name: str = 'consistency'):
    super().__init__(name=name)
    self._projection = snt.Sequential([
        snt.Linear(size), snt.LayerNorm(-1, True, True), tf.nn.relu,
        snt.Linear(size), snt.LayerNorm(-1, True, True), tf.nn.relu,
        snt.Linear(size)], name='projection')
    self._prediction = snt.Sequential([
        snt.Linear(max(size // 2, 1)), snt.LayerNorm(-1, True, True), tf.nn.relu,
        snt.Linear(size)], name='prediction')

  def project(self, latent: tf.Tensor) -> tf.Tensor:
    """[B, *latent_shape] -> [B, size]."""
    return self._projection(snt.Flatten()(latent))

  def predict(self, latent: tf.Tensor) -> tf.Tensor:
    """The predicted branch: projection then prediction head, [B, size]."""
    return self._prediction(self.project(latent))


def negative_cosine_similarity(prediction: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
  """[B, D] x [B, D] -> [B] -cos(prediction, stop_gradient(target)), in [-1, 1]."""
  prediction = tf.math.l2_normalize(prediction, axis=-1)
  target = tf.math.l2_normalize(tf.stop_gradient(target), axis=-1)
  return -tf.reduce_sum(prediction * target, axis=-1)
