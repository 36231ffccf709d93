"""The MuZero loss on a hand-made batch, term by term."""

import numpy as np
import tensorflow as tf

from agents.muzero import losses


def log_softmax(x):
  x = np.asarray(x, np.float64)
  return x - np.log(np.sum(np.exp(x - x.max(-1, keepdims=True)), -1, keepdims=True)) - x.max(-1, keepdims=True)


def test_loss_on_a_hand_made_batch():
  # B = 2 sequences, K = 2 unroll steps, supports of 5 bins (integers -2..2), 3 actions.
  rng = np.random.default_rng(1)
  value_logits = rng.normal(size=(2, 3, 5)).astype(np.float32)
  reward_logits = rng.normal(size=(2, 2, 5)).astype(np.float32)
  policy_logits = rng.normal(size=(2, 3, 3)).astype(np.float32)
  # Targets. h(0) = 0 -> all mass on bin 0 (index 2). h(3) = sqrt(4) - 1 + 0.001 * 3 = 1.003 ->
  # 0.997 on bin 1 (index 3) and 0.003 on bin 2 (index 4). h(-3) = -1.003 mirrors it.
  value_targets = np.asarray([[3.0, 0.0, 0.0], [-3.0, 3.0, 0.0]], np.float32)
  reward_targets = np.asarray([[0.0, 3.0], [3.0, 0.0]], np.float32)
  policy_targets = np.asarray([[[.5, .5, 0], [.2, .3, .5], [0, 0, 0]],
                               [[1, 0, 0], [0, 1, 0], [0, 0, 1]]], np.float32)
  policy_mask = np.asarray([[1, 1, 0], [1, 1, 1]], np.float32)
  weights = np.asarray([1.0, 0.5], np.float32)
  two_hot = {0.0: [0, 0, 1, 0, 0], 3.0: [0, 0, 0, .997, .003], -3.0: [.003, .997, 0, 0, 0]}

  def ce(target, logits):
    return -np.sum(np.asarray(target) * log_softmax(logits))

  scales = [1.0, 0.5, 0.5]  # 1 for k = 0, 1/K for k >= 1.
  expected_value, expected_reward, expected_policy = np.zeros(2), np.zeros(2), np.zeros(2)
  for b in range(2):
    for k in range(3):
      expected_value[b] += scales[k] * ce(two_hot[float(value_targets[b, k])], value_logits[b, k])
      expected_policy[b] += scales[k] * policy_mask[b, k] * ce(policy_targets[b, k], policy_logits[b, k])
      if k >= 1:
        expected_reward[b] += scales[k] * ce(two_hot[float(reward_targets[b, k - 1])],
                                             reward_logits[b, k - 1])
  value_loss_weight = 0.25
  per_sample = value_loss_weight * expected_value + expected_reward + expected_policy

  output = losses.muzero_loss(*(tf.constant(x) for x in (
      value_logits, reward_logits, losses.policy_log_probs(policy_logits), value_targets,
      reward_targets, policy_targets, policy_mask, weights)), value_loss_weight=value_loss_weight)

  np.testing.assert_allclose(output.per_sample_loss.numpy(), per_sample, rtol=1e-4)
  np.testing.assert_allclose(output.loss.numpy(), np.mean(weights * per_sample), rtol=1e-4)
  np.testing.assert_allclose(output.value_loss.numpy(), np.mean(weights * expected_value), rtol=1e-4)
  np.testing.assert_allclose(output.reward_loss.numpy(), np.mean(weights * expected_reward), rtol=1e-4)
  np.testing.assert_allclose(output.policy_loss.numpy(), np.mean(weights * expected_policy), rtol=1e-4)


def test_masked_policy_rows_do_not_contribute():
  logits = tf.constant([[[5.0, -5.0]]])
  zero = losses.muzero_loss(
      value_logits=tf.zeros([1, 1, 3]), reward_logits=tf.zeros([1, 0, 3]),
      policy_log_probs=losses.policy_log_probs(logits),
      value_targets=tf.zeros([1, 1]), reward_targets=tf.zeros([1, 0]),
      policy_targets=tf.constant([[[0.0, 1.0]]]), policy_mask=tf.zeros([1, 1]),
      weights=tf.ones([1]))
  assert zero.policy_loss.numpy() == 0.0


def test_sampled_policy_loss_is_the_cross_entropy_with_the_sampled_actions_densities():
  # One position, D = 1, policy mean 0 and std 1 in atanh space; S = 2 sampled actions 0 and
  # tanh(1) with search policy (0.75, 0.25): -(0.75 log p(0) + 0.25 log p(tanh(1))), where
  # log p(0) = -log sqrt(2 pi) and log p(tanh(1)) = -1/2 - log sqrt(2 pi) - log(1 - tanh(1)^2).
  log_sqrt_2_pi = 0.5 * np.log(2 * np.pi)
  expected = 0.75 * log_sqrt_2_pi + 0.25 * (0.5 + log_sqrt_2_pi + np.log(1 - np.tanh(1.0) ** 2))
  log_probs = losses.policy_log_probs(tf.zeros([1, 1, 2]),
                                      tf.constant([[[[0.0], [np.tanh(1.0)]]]], tf.float32))
  assert log_probs.shape == (1, 1, 2)
  output = losses.muzero_loss(
      value_logits=tf.zeros([1, 1, 3]), reward_logits=tf.zeros([1, 0, 3]),
      policy_log_probs=log_probs, value_targets=tf.zeros([1, 1]),
      reward_targets=tf.zeros([1, 0]), policy_targets=tf.constant([[[0.75, 0.25]]]),
      policy_mask=tf.ones([1, 1]), weights=tf.ones([1]))
  np.testing.assert_allclose(output.policy_loss.numpy(), expected, rtol=1e-5)


def test_l2_penalty_is_half_sum_of_squares():
  variables = [tf.Variable([1.0, 2.0]), tf.Variable([[3.0]])]
  # 1e-2 * (1 + 4 + 9) / 2 = 0.07
  np.testing.assert_allclose(losses.l2_penalty(variables, 1e-2).numpy(), 0.07, rtol=1e-6)


def test_dynamics_gradient_is_halved():
  class Linear:
    """initial: latent = x; recurrent: latent' = latent * 3, value logits = latent."""

    def initial_inference(self, observation):
      return _output(observation)

    def recurrent_inference(self, latent, action):
      del action
      return _output(latent * 3.0)

  def _output(latent):
    class Output:
      pass
    output = Output()
    output.latent = latent
    output.value_logits = latent
    output.policy_logits = latent
    output.reward_logits = latent
    output.value = latent[:, 0]
    return output

  x = tf.Variable([[1.0]])
  with tf.GradientTape() as tape:
    unrolled = losses.unroll(Linear(), x, tf.zeros([1, 2], tf.int32))
    # value logits at step 2 = 9 x; with a 1/2 gradient scale at each dynamics input d/dx = 9/4.
    target = unrolled.value_logits[0, 2, 0]
  np.testing.assert_allclose(target.numpy(), 9.0)
  np.testing.assert_allclose(tape.gradient(target, x).numpy(), [[9.0 / 4.0]])


def test_policy_entropy_sums_log_stds_over_the_masked_scaled_steps():
  # B = 1, K = 2 (scales 1, 1/2, 1/2), D = 2; raw scales -100 and 0 give log stds -5 and 0, so
  # every step's entropy (up to a constant) is -5; step 2 is masked: -5 * (1 + 1/2) = -7.5.
  outputs = tf.constant([[[0.3, -0.2, -100.0, 0.0]] * 3])
  entropy = losses.policy_entropy(outputs, tf.constant([[1.0, 1.0, 0.0]]))
  np.testing.assert_allclose(entropy.numpy(), [-7.5], rtol=1e-5)
