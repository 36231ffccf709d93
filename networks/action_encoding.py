"""How an action joins the latent state at the dynamics input, and past actions the observation.

Three encodings, chosen by torso (see `networks.muzero.Dynamics`):
  - vectors: the one-hot action concatenated to the latent;
  - Atari latents: one constant plane holding a / num_actions, the paper's bias plane
    (Appendix F), which also encodes past actions at the representation input;
  - board latents: one constant plane per action, 1 on the taken action's plane and 0 elsewhere,
    so that moves with no numeric order (a square, a column) stay distinct for the convolutions.
All encodings are in [0, 1], the range the latent is scaled to.
"""

import tensorflow as tf


def concat_one_hot(latent: tf.Tensor, action: tf.Tensor, num_actions: int) -> tf.Tensor:
  """[B, L], int [B] -> [B, L + num_actions]."""
  return tf.concat([latent, tf.one_hot(action, num_actions, dtype=latent.dtype)], axis=-1)


def concat_one_hot_planes(latent: tf.Tensor, action: tf.Tensor, num_actions: int) -> tf.Tensor:
  """[B, H, W, C], int [B] -> [B, H, W, C + num_actions]."""
  one_hot = tf.one_hot(action, num_actions, dtype=latent.dtype)[:, None, None, :]
  return tf.concat([latent, tf.ones_like(latent[..., :1]) * one_hot], axis=-1)


def concat_scaled_plane(latent: tf.Tensor, action: tf.Tensor, num_actions: int) -> tf.Tensor:
  """[B, H, W, C], int [B] -> [B, H, W, C + 1], the new plane constant at action / num_actions."""
  return concat_scaled_planes(latent, action[:, None], num_actions)


def concat_scaled_planes(features: tf.Tensor, actions: tf.Tensor, num_actions: int) -> tf.Tensor:
  """[B, H, W, C], int [B, P] -> [B, H, W, C + P], plane p constant at actions[:, p] / num_actions."""
  scaled = tf.cast(actions, features.dtype)[:, None, None, :] / num_actions
  return tf.concat([features, tf.ones_like(features[..., :1]) * scaled], axis=-1)
