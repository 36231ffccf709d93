"""How an action joins the latent state at the dynamics input, and past actions the observation.

Three encodings of discrete actions, chosen by torso (see `networks.muzero.Dynamics`):
  - vectors: the one-hot action concatenated to the latent;
  - Atari latents: one constant plane holding a / num_actions, the paper's bias plane
    (Appendix F), which also encodes past actions at the representation input;
  - board latents: the one-hot action laid over board-shaped planes (`concat_board_action_planes`),
    so that a move that is a cell is drawn on that cell, as the paper encodes Go moves ("a plane
    with a one at the stone's location", Appendix F).
Continuous actions in [-1, 1]^D join as (a + 1) / 2: concatenated to vector latents, one
constant plane per dimension for image and board latents (`concat_continuous`).
All encodings are in [0, 1], the range the latent is scaled to.
"""

import tensorflow as tf


def concat_one_hot(latent: tf.Tensor, action: tf.Tensor, num_actions: int) -> tf.Tensor:
  """[B, L], int [B] -> [B, L + num_actions]."""
  return tf.concat([latent, tf.one_hot(action, num_actions, dtype=latent.dtype)], axis=-1)


def concat_board_action_planes(latent: tf.Tensor, action: tf.Tensor, num_actions: int) -> tf.Tensor:
  """[B, H, W, C], int [B] -> [B, H, W, C + P], P = ceil(num_actions / (H W)).

  Action a is a one on plane a // (H W) at cell a mod (H W) (row-major), zeros elsewhere. Games
  whose actions are the board's cells (tic-tac-toe, Go) thus draw the move where it is played,
  with Go's pass on a second plane; connect four's columns fall on the top row; chess's 4,674
  moves take 74 planes instead of 4,674 constant ones.
  """
  height, width = latent.shape[1], latent.shape[2]
  cells = height * width
  num_planes = -(-num_actions // cells)
  one_hot = tf.one_hot(action, num_planes * cells, dtype=latent.dtype)
  planes = tf.transpose(tf.reshape(one_hot, [-1, num_planes, height, width]), [0, 2, 3, 1])
  return tf.concat([latent, planes], axis=-1)


def concat_scaled_plane(latent: tf.Tensor, action: tf.Tensor, num_actions: int) -> tf.Tensor:
  """[B, H, W, C], int [B] -> [B, H, W, C + 1], the new plane constant at action / num_actions."""
  return concat_scaled_planes(latent, action[:, None], num_actions)


def concat_scaled_planes(features: tf.Tensor, actions: tf.Tensor, num_actions: int) -> tf.Tensor:
  """[B, H, W, C], int [B, P] -> [B, H, W, C + P], plane p constant at actions[:, p] / num_actions."""
  scaled = tf.cast(actions, features.dtype)[:, None, None, :] / num_actions
  return tf.concat([features, tf.ones_like(features[..., :1]) * scaled], axis=-1)


def concat_continuous(latent: tf.Tensor, action: tf.Tensor) -> tf.Tensor:
  """[B, L] or [B, H, W, C], float [B, D] in [-1, 1] -> [B, L + D] or [B, H, W, C + D]."""
  scaled = (tf.cast(action, latent.dtype) + 1.0) / 2.0
  if len(latent.shape) == 2:
    return tf.concat([latent, scaled], axis=-1)
  return tf.concat([latent, tf.ones_like(latent[..., :1]) * scaled[:, None, None, :]], axis=-1)
