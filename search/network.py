"""The network contract the search relies on, duck-typed so that search/ never imports networks/."""

from typing import Any, Protocol

import tensorflow as tf


class InferenceOutput(Protocol):
  """What one inference returns (networks.base.NetworkOutput has these fields and more).

  Attributes:
    latent: [B, *latent_shape] latent state.
    reward: [B] reward of the transition that led to `latent` (zeros for initial inference).
    policy_logits: [B, A] prior policy logits.
    value: [B] value of `latent` for the player to move there.
  """

  latent: tf.Tensor
  reward: tf.Tensor
  policy_logits: tf.Tensor
  value: tf.Tensor


class Network(Protocol):
  """MuZero's model: representation + prediction, and dynamics + prediction."""

  num_actions: int

  def initial_inference(self, observation: Any) -> InferenceOutput:
    """Latent state, policy logits and value of a batch of observations [B, ...] (or of a nest,
    e.g. a dict, of such batches)."""

  def recurrent_inference(self, latent: tf.Tensor, action: tf.Tensor) -> InferenceOutput:
    """Next latent state, reward, policy logits and value after `action` [B] int32."""
