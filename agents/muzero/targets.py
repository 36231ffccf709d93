"""Learning targets from replayed sequences: n-step values, rewards, policies, masks, weights.

A replay item is a sequence of L = K + n + 1 rows written by `agents.muzero.adders.MuZeroAdder`
(which keeps only the columns the learner reads: see its `column_lengths`). Row i holds the observation o_i, the action a_i taken there, the reward u_i and discount d_i of
the step that followed, and the extras of the search run at o_i (search policy pi_i, root value
v_i). After the last action of an episode comes one row with the final observation and zeros
elsewhere (Acme's adders complete the row that way), then zero rows (padding) to length L.

Two kinds of rows therefore exist, told apart by the adder's 'decision' extra (1 or 0):
  - decision rows, where a search ran;
  - rows past the last action (the final observation and padding). These positions are
    absorbing (DESIGN.md section 4): reward 0, value target their stored root value, policy
    loss masked out. The stored root value is 0 there except on the final row of an episode
    cut by a time limit (discount 1), where the actor stores the network's value of the final
    observation, so that targets bootstrap through truncation.

Value target (paper, Appendix G / DESIGN.md section 4), for a decision row k:
  z_k = sum_{i<n} gamma^i D_{k,i} s^i u_{k+i} + gamma^n D_{k,n} s^n v_{k+n},
  D_{k,i} = d_k d_{k+1} ... d_{k+i-1} (1 for i = 0),
with s = -1 in two-player zero-sum games (rewards are from the mover's point of view, values from
the point of view of the player to move, and the player alternates every ply) and s = 1
otherwise. A sum that reaches the first row past the last action (k + i is the final row) stops
there and bootstraps from that row's stored value instead: after a terminal step (d = 0) the
factor is already 0, so nothing is added; after a truncated last step (d = 1) that stored value
is the network's value of the final observation, so the target bootstraps through the time limit.
Decision rows' targets are the formula above; other rows' targets are their stored value.
"""

from typing import Any

import numpy as np
import tensorflow as tf


def value_targets(rewards: tf.Tensor, discounts: tf.Tensor, root_values: tf.Tensor,
                  mask: tf.Tensor, num_targets: int, td_steps: int, discount: float,
                  two_player: bool = False) -> tf.Tensor:
  """n-step value targets z_0 .. z_{num_targets - 1} of a batch of sequences.

  Args:
    rewards: [B, L] u_i, the reward after the action of row i.
    discounts: [B, L] d_i, the environment discount after the action of row i (0 at a terminal).
    root_values: [B, L] v_i, the search's root value at row i (bootstrap values).
    mask: [B, L] 1 on decision rows (the adder's 'decision' extra).
    num_targets: K + 1, the positions that get a target.
    td_steps: n.
    discount: gamma.
    two_player: flip the sign every ply (see the module docstring).

  Returns:
    [B, num_targets] float32 targets; rows past the last action get their stored root value,
    and a sum that reaches such a row stops there and bootstraps from that row's stored value.
  """
  length = rewards.shape[1]
  if length is not None and length < num_targets + td_steps:
    raise ValueError(f'sequences of {length} steps are too short for {num_targets} targets with '
                     f'td_steps={td_steps}: they need at least {num_targets + td_steps} steps.')
  sign = -1.0 if two_player else 1.0
  target = tf.zeros_like(rewards[:, :num_targets])
  # Windows shifted by i give row k + i for every k at once. factor = gamma^i D_{k,i} s^i;
  # `alive` is 1 while rows k .. k + i - 1 were all decision rows.
  factor = tf.ones_like(target)
  alive = tf.ones_like(target)
  for i in range(td_steps):
    row_is_decision = mask[:, i:i + num_targets]
    # The first row past the last action ends the sum with its stored value (0 after a
    # terminal, whose factor is 0 anyway; the bootstrap value after a truncation).
    target += factor * alive * (1.0 - row_is_decision) * root_values[:, i:i + num_targets]
    alive *= row_is_decision
    target += factor * alive * rewards[:, i:i + num_targets]
    factor *= discount * sign * discounts[:, i:i + num_targets]
  return target + factor * alive * root_values[:, td_steps:td_steps + num_targets]


def importance_weights(probabilities: tf.Tensor, table_size: tf.Tensor,
                       exponent: float) -> tf.Tensor:
  """(1 / (N P(i)))^beta normalised by the batch maximum, so that weights are at most 1."""
  probabilities = tf.cast(probabilities, tf.float32)
  table_size = tf.cast(table_size, tf.float32)
  weights = tf.pow(1.0 / (table_size * probabilities), exponent)
  return weights / tf.reduce_max(weights)


def first_value_target(rewards: np.ndarray, discounts: np.ndarray, root_values: np.ndarray,
                       mask: np.ndarray, td_steps: int, discount: float,
                       two_player: bool = False) -> float:
  """z_0 of one sequence in numpy, for actors' initial priorities (same formula as above).

  Actors call this once per written sequence, where a TensorFlow call would cost more than the
  arithmetic; tests check it against `value_targets`.
  """
  sign = -1.0 if two_player else 1.0
  target, factor = 0.0, 1.0
  for i in range(td_steps):
    if not mask[i]:
      return target + factor * float(root_values[i])
    target += factor * float(rewards[i])
    factor *= discount * sign * float(discounts[i])
  return target + factor * float(root_values[td_steps])


def initial_priority_fn(td_steps: int, discount: float, two_player: bool, epsilon: float):
  """A priority function for Acme adders: |v_0 - z_0| + epsilon of the written sequence.

  The paper gives fresh data the priority |search value - n-step return| (Appendix G).
  """
  def priority(trajectory: Any) -> float:
    """`trajectory`: an `acme.adders.reverb.base.Trajectory` of numpy arrays, time first."""
    extras = trajectory.extras
    mask = extras['decision'] > 0.5
    target = first_value_target(trajectory.reward, trajectory.discount, extras['root_value'],
                                mask, td_steps, discount, two_player)
    return abs(float(extras['root_value'][0]) - target) + epsilon
  return priority
