"""The MuZero loss (paper, Methods and Appendix G; DESIGN.md section 4) and the model unroll.

For each item and each unroll step k = 0..K (targets and masks: `agents.muzero.replay`):
  value loss   CE(two_hot(h(z_k)), value_logits_k)            (decision and absorbing rows),
  reward loss  CE(two_hot(h(u_{k-1})), reward_logits_k)       (k >= 1, leaving such rows),
  policy loss  -sum_j pi_k(j) log p_k(j)                      (decision rows only),
  consistency  -cos(P(s_k), proj(h(o_{t+k})))                 (k >= 1, real observations;
                                                               EfficientZero, optional),
where CE(p, logits) = -sum_j p_j log softmax(logits)_j and p_k(j) the policy's probability of
the j-th action the search policy pi_k is over (`policy_log_probs`): every action, p =
softmax(policy_logits_k), for discrete actions; for continuous ones the S actions the search
sampled, p their densities under the squashed Gaussian, which makes the policy loss Sampled
MuZero's sample-based cross-entropy -sum_j pi_hat(j) log pi(a_j) (Hubert et al. 2021). Step k's loss is scaled by 1 for k = 0 and
by 1/K for k >= 1 so that the total gradient does not grow with the unroll length (paper,
Appendix G). The sample's loss is weighted by its importance weight, averaged over the batch,
and an L2 penalty c * sum(w^2) / 2 is added (the pseudocode's `weight_decay * tf.nn.l2_loss`).
"""

from typing import NamedTuple, Optional, Sequence, Tuple

import tensorflow as tf

from networks import squashed_gaussian
from networks import transforms

DYNAMICS_GRADIENT_SCALE = 0.5


class LossOutput(NamedTuple):
  """The loss and its parts, each an importance-weighted batch mean (scalars unless noted).

  Attributes:
    loss: value_loss_weight * value_loss + reward_loss + policy_loss
      + consistency_loss_weight * consistency_loss (no L2 penalty).
    value_loss: value cross-entropy summed over the scaled unroll steps.
    reward_loss: reward cross-entropy summed over the scaled unroll steps k >= 1.
    policy_loss: policy cross-entropy summed over the scaled unroll steps.
    consistency_loss: negative cosine similarity summed over the scaled unroll steps k >= 1 (0
      when not given).
    per_sample_loss: [B] unweighted loss of each sequence.
  """
  loss: tf.Tensor
  value_loss: tf.Tensor
  reward_loss: tf.Tensor
  policy_loss: tf.Tensor
  consistency_loss: tf.Tensor
  per_sample_loss: tf.Tensor


class Unroll(NamedTuple):
  """Network predictions along K unrolled steps, batch first.

  Attributes:
    value_logits: [B, K + 1, value_support_size].
    reward_logits: [B, K, reward_support_size], for steps 1..K.
    policy_logits: [B, K + 1, num_actions] (squashed Gaussian parameters [B, K + 1, 2 D] for
      continuous actions).
    initial_value: [B] scalar value predicted at step 0 (for new priorities).
    latents: the K + 1 latents [B, *latent_shape] of steps 0..K (for the consistency loss).
  """
  value_logits: tf.Tensor
  reward_logits: tf.Tensor
  policy_logits: tf.Tensor
  initial_value: tf.Tensor
  latents: Tuple[tf.Tensor, ...]


def cross_entropy(target_probabilities: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
  """[..., N] x [..., N] -> [...] -sum p log softmax(logits)."""
  return -tf.reduce_sum(target_probabilities * tf.nn.log_softmax(logits), axis=-1)


def policy_log_probs(policy_outputs: tf.Tensor,
                     sampled_actions: Optional[tf.Tensor] = None) -> tf.Tensor:
  """[B, K + 1, N] log-probabilities of the actions the search policies are over.

  Args:
    policy_outputs: [B, K + 1, P] the policy head's outputs along the unroll: logits over all
      actions, or squashed Gaussian parameters (P = 2 D) for continuous actions.
    sampled_actions: None for discrete actions (N = A: log softmax of the logits), or
      [B, K + 1, S, D] the searches' sampled actions (N = S: their log densities).
  """
  if sampled_actions is None:
    return tf.nn.log_softmax(policy_outputs)
  shape = tf.shape(sampled_actions)
  flat_log_probs = squashed_gaussian.log_prob(
      tf.reshape(policy_outputs, [-1, policy_outputs.shape[-1]]),
      tf.reshape(sampled_actions, tf.concat([[-1], shape[2:]], axis=0)))
  return tf.reshape(flat_log_probs, shape[:3])


def policy_entropy(policy_outputs: tf.Tensor, policy_mask: tf.Tensor) -> tf.Tensor:
  """[B] entropy of squashed Gaussian policies [B, K + 1, 2 D] in atanh space, up to a constant:
  the sum of their log standard deviations over the masked rows [B, K + 1], with the step
  scales of the policy loss."""
  _, log_std = squashed_gaussian.mean_and_log_std(policy_outputs)
  scales = step_scales(policy_outputs.shape[1] - 1)
  return tf.reduce_sum(tf.reduce_sum(log_std, axis=-1) * policy_mask * scales, axis=1)


def step_scales(unroll_steps: int) -> tf.Tensor:
  """[K + 1] loss scale of each unroll step: 1 for the first, 1/K after (K = 0: just [1])."""
  return tf.constant([1.0] + [1.0 / max(unroll_steps, 1)] * unroll_steps, tf.float32)


def muzero_loss(value_logits: tf.Tensor, reward_logits: tf.Tensor, policy_log_probs: tf.Tensor,
                value_targets: tf.Tensor, reward_targets: tf.Tensor, policy_targets: tf.Tensor,
                policy_mask: tf.Tensor, weights: tf.Tensor,
                value_loss_weight: float = 1.0, value_mask: Optional[tf.Tensor] = None,
                reward_mask: Optional[tf.Tensor] = None, consistency: Optional[tf.Tensor] = None,
                consistency_loss_weight: float = 0.0) -> LossOutput:
  """The loss of the module docstring from logits and targets.

  Args:
    value_logits: [B, K + 1, V].
    reward_logits: [B, K, R] for unroll steps 1..K.
    policy_log_probs: [B, K + 1, N] log-probabilities of the N actions the policy targets are
      over (`policy_log_probs`).
    value_targets: [B, K + 1] scalar targets z_k (transformed and two-hot encoded here).
    reward_targets: [B, K] scalar rewards u_0 .. u_{K-1}.
    policy_targets: [B, K + 1, N] search policies (zeros where masked).
    policy_mask: [B, K + 1] 1 where the policy target is a real search policy.
    weights: [B] importance weights.
    value_loss_weight: multiplies the value loss.
    value_mask: [B, K + 1] 1 where the value target is known; None: everywhere.
    reward_mask: [B, K] 1 where the reward target is known; None: everywhere.
    consistency: [B, K] per-step consistency loss of steps 1..K, already masked; None: no term.
    consistency_loss_weight: multiplies the consistency loss.

  Returns:
    LossOutput.
  """
  unroll_steps = reward_logits.shape[1]
  scales = step_scales(unroll_steps)
  value_ce = cross_entropy(
      transforms.scalar_to_support(value_targets, value_logits.shape[-1]), value_logits)
  reward_ce = cross_entropy(
      transforms.scalar_to_support(reward_targets, reward_logits.shape[-1]), reward_logits)
  policy_ce = -tf.reduce_sum(policy_targets * policy_log_probs, axis=-1) * policy_mask
  if value_mask is not None:
    value_ce *= value_mask
  if reward_mask is not None:
    reward_ce *= reward_mask
  value_loss = tf.reduce_sum(value_ce * scales, axis=1)
  reward_loss = tf.reduce_sum(reward_ce * scales[1:], axis=1)
  policy_loss = tf.reduce_sum(policy_ce * scales, axis=1)
  consistency_loss = (tf.reduce_sum(consistency * scales[1:], axis=1) if consistency is not None
                      else tf.zeros_like(value_loss))
  per_sample = (value_loss_weight * value_loss + reward_loss + policy_loss
                + consistency_loss_weight * consistency_loss)
  weighted_mean = lambda x: tf.reduce_mean(weights * x)
  return LossOutput(
      loss=weighted_mean(per_sample),
      value_loss=weighted_mean(value_loss),
      reward_loss=weighted_mean(reward_loss),
      policy_loss=weighted_mean(policy_loss),
      consistency_loss=weighted_mean(consistency_loss),
      per_sample_loss=per_sample)


def l2_penalty(variables: Sequence[tf.Variable], weight_decay: float) -> tf.Tensor:
  """weight_decay * sum over all variables of sum(w^2) / 2."""
  if not variables or weight_decay == 0:
    return tf.constant(0.0)
  return weight_decay * tf.add_n([tf.nn.l2_loss(variable) for variable in variables])


def unroll(network, observation, actions: tf.Tensor) -> Unroll:
  """Runs the representation once and the dynamics K times along the replayed actions.

  The latent entering each dynamics step has its gradient scaled by 1/2 (paper, Appendix G:
  "we also scale the gradient at the start of the dynamics function by 1/2").

  Args:
    network: a `networks.MuZeroNetwork`.
    observation: the batch of first observations [B, ...] (a dict for board games).
    actions: int32 [B, K] actions a_0 .. a_{K-1} (float32 [B, K, D] continuous ones).

  Returns:
    Unroll.
  """
  output = network.initial_inference(observation)
  value_logits, policy_logits, reward_logits = [output.value_logits], [output.policy_logits], []
  initial_value = output.value
  latent = output.latent
  latents = [latent]
  for k in range(actions.shape[1]):
    latent = transforms.scale_gradient(latent, DYNAMICS_GRADIENT_SCALE)
    output = network.recurrent_inference(latent, actions[:, k])
    latent = output.latent
    latents.append(latent)
    value_logits.append(output.value_logits)
    policy_logits.append(output.policy_logits)
    reward_logits.append(output.reward_logits)
  return Unroll(value_logits=tf.stack(value_logits, axis=1),
                reward_logits=tf.stack(reward_logits, axis=1),
                policy_logits=tf.stack(policy_logits, axis=1),
                initial_value=initial_value, latents=tuple(latents))
