"""The policy over continuous actions: a diagonal Gaussian squashed by tanh into [-1, 1]^D.

The prediction function outputs 2 D numbers per latent: D means and D raw scales of a Gaussian
over u in R^D; an action is a = tanh(u), inside the canonical bounds [-1, 1]^D that the agent
maps to the environment's own (`agents.muzero.canonical`). Why this family (Sampled MuZero,
Hubert et al. 2021, needs a policy it can sample K actions from and score any action under):
  - samples fall inside the bounds by construction, so no clipping piles probability on the
    bounds, and the density of a squashed sample is exact (change of variables), which the
    sample-based policy loss -sum_k pi_hat(k) log pi(a_k) needs;
  - sampling is mean + std * normal, so stateless normal draws suffice (it compiles under XLA,
    unlike Gamma or Beta draws in TF 2.8);
  - 2 D outputs whatever the resolution, where a factored categorical over discretised
    dimensions needs bins x D outputs and cannot place an action between its bins.
It is the policy family of SAC (Haarnoja et al. 2018) for the same reasons.

The log standard deviation is squashed into [LOG_STD_MIN, LOG_STD_MAX]: the sample-based loss
rewards a policy that concentrates on the most visited sample, and an unbounded scale would let
its density (and the loss) diverge. A raw scale of 0 gives log std 0 (std 1 in u, actions
spread over most of [-1, 1]), so a fresh network explores. The mean is squashed softly into
[-MEAN_BOUND, MEAN_BOUND]: past |u| ~ 9, tanh(u) rounds to +-1 in float32, so a mean far out
would make every sample the same action at the bound; the search could not tell them apart,
and the loss, fitting the policy to K identical samples, would shrink its scale to the minimum
(measured on Pendulum-v1: the policy loss fell to -6.5 within 1,500 learner steps and the greedy
return stayed at the random policy's). tanh(5) is 1 - 9e-5, so the bounds stay reachable.
"""

import math

import tensorflow as tf

LOG_STD_MIN = -5.0
LOG_STD_MAX = 2.0
MEAN_BOUND = 5.0
# atanh(+-1) is infinite: scored actions are moved this far inside the bounds.
_EDGE = 1e-6
# Shifts the raw scale so that raw 0 maps to log std 0.
_RAW_SCALE_OFFSET = math.log(-LOG_STD_MIN / LOG_STD_MAX)
_LOG_SQRT_2_PI = 0.5 * math.log(2.0 * math.pi)


def num_parameters(action_size: int) -> int:
  """Outputs of the policy head for D = `action_size` dimensions: D means, D raw scales."""
  return 2 * action_size


def mean_and_log_std(parameters: tf.Tensor):
  """[..., 2 D] policy head outputs -> (mean [..., D], log std [..., D]) in u = atanh(a)."""
  raw_mean, raw_scale = tf.split(parameters, 2, axis=-1)
  mean = MEAN_BOUND * tf.tanh(raw_mean / MEAN_BOUND)
  log_std = LOG_STD_MIN + (LOG_STD_MAX - LOG_STD_MIN) * tf.sigmoid(raw_scale + _RAW_SCALE_OFFSET)
  return mean, log_std


def sample(parameters: tf.Tensor, normals: tf.Tensor, std_scale: float = 1.0) -> tf.Tensor:
  """Actions tanh(mean + std_scale * std * normal): [B, 2 D], [B, K, D] -> [B, K, D] in [-1, 1].

  `std_scale` > 1 widens the distribution (a proposal broader than the policy).
  """
  mean, log_std = mean_and_log_std(parameters)
  return tf.tanh(mean[:, None] + std_scale * tf.exp(log_std)[:, None] * normals)


def log_prob(parameters: tf.Tensor, actions: tf.Tensor, std_scale: float = 1.0) -> tf.Tensor:
  """Log density of `actions` [B, K, D] under the policy [B, 2 D] (std scaled): [B, K].

  log p(a) = sum_d log N(u_d; mean_d, std_d) - log(1 - tanh(u_d)^2), u = atanh(a), with actions
  at the bounds moved inside by 1e-6.
  """
  mean, log_std = mean_and_log_std(parameters)
  log_std = log_std + math.log(std_scale)
  u = tf.atanh(tf.clip_by_value(actions, -1.0 + _EDGE, 1.0 - _EDGE))
  z = (u - mean[:, None]) * tf.exp(-log_std)[:, None]
  gaussian = -0.5 * tf.square(z) - log_std[:, None] - _LOG_SQRT_2_PI
  # log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2 u)), stable for large |u|.
  log_jacobian = 2.0 * (math.log(2.0) - u - tf.nn.softplus(-2.0 * u))
  return tf.reduce_sum(gaussian - log_jacobian, axis=-1)
