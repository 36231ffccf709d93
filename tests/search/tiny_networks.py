"""Small networks for the search tests, with the networks.base.NetworkOutput fields."""

from typing import Sequence

import numpy as np
import tensorflow as tf

from networks.base import NetworkOutput


def _output(latent: tf.Tensor, reward: tf.Tensor, policy_logits: tf.Tensor,
            value: tf.Tensor) -> NetworkOutput:
  # Scalar heads: the search never reads the categorical logits.
  return NetworkOutput(latent, reward, policy_logits, value, reward[:, None], value[:, None])


class RandomNetwork(tf.Module):
  """Random MLP model; the latent state has any shape (e.g. [2, 2, 3] like an image torso).

  Weights are scaled up so that values, rewards and priors differ enough between nodes for pUCT
  to make clear-cut choices. `num_traces` counts the Python executions of `initial_inference`;
  a compiled search runs them only while it traces.
  """

  def __init__(self, observation_size: int, num_actions: int, latent_shape: Sequence[int] = (8,),
               hidden_size: int = 16, seed: int = 0, scale: float = 2.0):
    super().__init__()
    rng = np.random.default_rng(seed)
    latent_size = int(np.prod(latent_shape))

    def weights(fan_in: int, fan_out: int) -> tf.Variable:
      return tf.Variable(rng.normal(size=(fan_in, fan_out)).astype(np.float32) * scale /
                         np.sqrt(fan_in))

    self.num_actions = num_actions
    self.latent_shape = tuple(latent_shape)
    self.num_traces = 0
    self._representation = [weights(observation_size, hidden_size),
                            weights(hidden_size, latent_size)]
    self._dynamics = [weights(latent_size + num_actions, hidden_size),
                      weights(hidden_size, latent_size + 1)]
    self._prediction = [weights(latent_size, hidden_size), weights(hidden_size, num_actions + 1)]

  def initial_inference(self, observation: tf.Tensor) -> NetworkOutput:
    self.num_traces += 1
    observation = tf.convert_to_tensor(observation, tf.float32)
    latent = tf.tanh(tf.nn.relu(observation @ self._representation[0]) @ self._representation[1])
    return self._predict(latent, tf.zeros([tf.shape(latent)[0]]))

  def recurrent_inference(self, latent: tf.Tensor, action: tf.Tensor) -> NetworkOutput:
    latent = tf.reshape(tf.convert_to_tensor(latent, tf.float32), [tf.shape(latent)[0], -1])
    inputs = tf.concat([latent, tf.one_hot(action, self.num_actions)], axis=1)
    outputs = tf.nn.relu(inputs @ self._dynamics[0]) @ self._dynamics[1]
    return self._predict(tf.tanh(outputs[:, :-1]), outputs[:, -1])

  def _predict(self, flat_latent: tf.Tensor, reward: tf.Tensor) -> NetworkOutput:
    outputs = tf.nn.relu(flat_latent @ self._prediction[0]) @ self._prediction[1]
    latent = tf.reshape(flat_latent, [-1, *self.latent_shape])
    return _output(latent, reward, outputs[:, :-1], outputs[:, -1])


class BanditNetwork(tf.Module):
  """Hand-made model: every transition pays `action_rewards[action]`, whatever the state.

  Every node has the same value and prior logits; the latent state is unused (zeros of size 1).
  """

  latent_shape = (1,)

  def __init__(self, action_rewards: Sequence[float], prior_logits: Sequence[float],
               value: float = 0.0):
    super().__init__()
    self.num_actions = len(action_rewards)
    self._action_rewards = tf.constant(action_rewards, tf.float32)
    self._prior_logits = tf.constant(prior_logits, tf.float32)
    self._value = value

  def initial_inference(self, observation: tf.Tensor) -> NetworkOutput:
    return self._output(tf.zeros([tf.shape(observation)[0]]))

  def recurrent_inference(self, latent: tf.Tensor, action: tf.Tensor) -> NetworkOutput:
    return self._output(tf.gather(self._action_rewards, action))

  def _output(self, reward: tf.Tensor) -> NetworkOutput:
    batch_size = tf.shape(reward)[0]
    logits = tf.tile(self._prior_logits[None], [batch_size, 1])
    return _output(tf.zeros([batch_size, 1]), reward, logits,
                   tf.fill([batch_size], self._value))


class GameTreeNetwork(tf.Module):
  """Hand-built game tree: the latent state is the node's index, and tables give the rest.

  Node 0 is the root; `children[n][a]` is the node that action a leads to from node n, with
  reward `rewards[n][a]` for the player who moved; `values[n]` is node n's value for the player
  to move there and `prior_logits[n]` its prior. A terminal position is a node whose children
  are itself with reward 0 and value 0 (absorbing, as MuZero's model learns them).
  """

  def __init__(self, children: Sequence[Sequence[int]], rewards: Sequence[Sequence[float]],
               values: Sequence[float], prior_logits: Sequence[Sequence[float]]):
    super().__init__()
    self.num_actions = len(children[0])
    self._children = tf.constant(children, tf.int32)
    self._rewards = tf.constant(rewards, tf.float32)
    self._values = tf.constant(values, tf.float32)
    self._prior_logits = tf.constant(prior_logits, tf.float32)

  def initial_inference(self, observation: tf.Tensor) -> NetworkOutput:
    root = tf.zeros([tf.shape(observation)[0]], tf.int32)
    return self._output(root, tf.zeros([tf.shape(observation)[0]]))

  def recurrent_inference(self, latent: tf.Tensor, action: tf.Tensor) -> NetworkOutput:
    node = tf.cast(latent[:, 0], tf.int32)
    edge = tf.stack([node, action], axis=1)
    return self._output(tf.gather_nd(self._children, edge), tf.gather_nd(self._rewards, edge))

  def _output(self, node: tf.Tensor, reward: tf.Tensor) -> NetworkOutput:
    return _output(tf.cast(node, tf.float32)[:, None], reward,
                   tf.gather(self._prior_logits, node), tf.gather(self._values, node))
