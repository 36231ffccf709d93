"""The output every MuZero network function returns, shared by search, actors and the learner."""

from typing import NamedTuple

import tensorflow as tf


class NetworkOutput(NamedTuple):
  """What `initial_inference` and `recurrent_inference` return, batch first.

  Search reads only `latent`, `reward`, `policy_logits` and `value`; the learner's losses read the
  logits, because cross-entropy against categorical targets needs the distributions, not the
  scalars.

  Attributes:
    latent: [B, *latent_shape] float32 hidden state, min-max scaled to [0, 1] per sample.
    reward: [B] float32 predicted reward, the inverse-transformed expectation of `reward_logits`
      (zero for `initial_inference`, which predicts no reward).
    policy_logits: [B, num_actions] float32 unnormalised prior over actions.
    value: [B] float32 predicted value, the inverse-transformed expectation of `value_logits`.
    reward_logits: [B, reward_support_size] float32 (zeros for `initial_inference`).
    value_logits: [B, value_support_size] float32.
  """
  latent: tf.Tensor
  reward: tf.Tensor
  policy_logits: tf.Tensor
  value: tf.Tensor
  reward_logits: tf.Tensor
  value_logits: tf.Tensor
