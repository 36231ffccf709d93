"""Self-supervised consistency losses: the latent the dynamics predicts k steps ahead should be
the latent the representation gives the observation at t + k.

Two ways of comparing them (`agents.muzero.config.MuZeroConfig.consistency_space`):
  - 'projection', EfficientZero's (Ye et al. 2021, section 4.1): as in SimSiam (Chen and He
    2021), both latents go through a projection, the predicted branch also through a prediction
    head, and the loss is the negative cosine similarity against the projected target with its
    gradient stopped, so that the representation is not pulled towards the dynamics' errors (and
    nothing collapses to a constant). Only the learner holds these heads: actors and search never
    need them.
  - 'latent' (`squared_distance`): the squared Euclidean distance between the two latents, the
    target's gradient stopped, as TD-MPC's latent consistency (Hansen et al. 2022). Why: where one
    action moves the next observation a little (Pendulum-v1: a torque changes the angular
    velocity by at most 0.3 of its range of 16 per step), the learned projections are free to
    ignore the difference (the loss sat at -0.96 to -0.98 while the model ignored the torque),
    so the dynamics never learns the action's effect (measured, BENCHMARKS.md "Pendulum: why the
    model ignored the torque"). The distance between the latents themselves has no such escape.
    Latents are min-max scaled to [0, 1] per sample, so neither side can shrink to a constant.
"""

from typing import Optional

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


def make_heads(space: str, projection_size: int,
               latent_shape) -> Optional[ConsistencyHeads]:
  """The heads `per_sample_loss` takes for `space` ('projection' or 'latent'), their variables
  made for latents of `latent_shape`; None for 'latent', which compares the latents as they are."""
  if space == 'latent':
    return None
  heads = ConsistencyHeads(projection_size)
  heads.predict(tf.zeros((1,) + tuple(latent_shape)))
  return heads


def per_sample_loss(predicted: tf.Tensor, target: tf.Tensor,
                    heads: Optional[ConsistencyHeads] = None) -> tf.Tensor:
  """[B, *latent_shape] latents the dynamics predicted, [B, *latent_shape] the
  representation's of the same observations -> [B] consistency loss: EfficientZero's
  negative cosine through `heads`, or the squared distance of the latents when None."""
  if heads is None:
    return squared_distance(predicted, target)
  return negative_cosine_similarity(heads.predict(predicted), heads.project(target))


def squared_distance(prediction: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
  """[B, ...] x [B, ...] -> [B] sum over the entries of (prediction - stop_gradient(target))^2."""
  difference = snt.Flatten()(prediction) - tf.stop_gradient(snt.Flatten()(target))
  return tf.reduce_sum(tf.square(difference), axis=-1)
