"""Value targets, masks and importance weights against arithmetic done by hand."""

import numpy as np
import pytest
import tensorflow as tf

from agents.muzero import targets

# One 6-step episode (rows 0..5 are decisions, row 6 the final observation, then padding):
#   rewards u_0..u_5 = 1, 2, 3, 4, 5, 8; root values v_0..v_5 = 10, 20, 30, 40, 50, 60.
# Tests use gamma = 0.5, n = 3 and K = 2 (3 targets), so items are K + n + 1 = 6 rows long.
GAMMA, TD_STEPS, NUM_TARGETS = 0.5, 3, 3
REWARDS = [1, 2, 3, 4, 5, 8]
ROOT_VALUES = [10, 20, 30, 40, 50, 60]


def episode_rows(truncated: bool, final_value: float = 0.0):
  """Rows 0..11 of the episode as an adder writes them: decisions, final row, zero padding."""
  rewards = REWARDS + [0.0] * 6
  discounts = [1.0] * 5 + [1.0 if truncated else 0.0] + [0.0] * 6
  root_values = ROOT_VALUES + [final_value] + [0.0] * 5
  mask = [1.0] * 6 + [0.0] * 6
  return [np.asarray(x, np.float32) for x in (rewards, discounts, root_values, mask)]


def item_targets(rows, start: int, two_player=False, td_steps=TD_STEPS, num_targets=NUM_TARGETS,
                 gamma=GAMMA):
  length = num_targets + td_steps
  window = [tf.constant(x[None, start:start + length]) for x in rows]
  return targets.value_targets(*window, num_targets=num_targets, td_steps=td_steps,
                               discount=gamma, two_player=two_player).numpy()[0]


def test_n_step_targets_inside_the_episode():
  rows = episode_rows(truncated=False)
  # z_0 = 1 + .5*2 + .25*3 + .125*v_3 = 1 + 1 + .75 + 5    = 7.75
  # z_1 = 2 + .5*3 + .25*4 + .125*v_4 = 2 + 1.5 + 1 + 6.25 = 10.75
  # z_2 = 3 + .5*4 + .25*5 + .125*v_5 = 3 + 2 + 1.25 + 7.5 = 13.75
  np.testing.assert_allclose(item_targets(rows, 0), [7.75, 10.75, 13.75], rtol=1e-6)


def test_terminal_cuts_the_bootstrap():
  rows = episode_rows(truncated=False)
  # Item from row 2: rows 2..5 decide, row 6 is terminal (d_5 = 0), row 7 padding.
  # z_2 = 3 + .5*4 + .25*5 + .125*v_5       = 3 + 2 + 1.25 + 7.5 = 13.75
  # z_3 = 4 + .5*5 + .25*8 + .125*d_5*v_6   = 4 + 2.5 + 2 + 0    = 8.5
  # z_4 = 5 + .5*8 + 0 (everything after the terminal step is cut) = 9
  np.testing.assert_allclose(item_targets(rows, 2), [13.75, 8.5, 9.0], rtol=1e-6)
  # Item from row 5: z_5 = 8; rows 6 and 7 are absorbing: their stored value, 0.
  np.testing.assert_allclose(item_targets(rows, 5), [8.0, 0.0, 0.0], rtol=1e-6)


def test_truncation_bootstraps_from_the_final_value():
  # Same episode cut by a time limit (d_5 = 1); the actor stored v_6 = 7 on the final row.
  rows = episode_rows(truncated=True, final_value=7.0)
  # z_2 = 13.75 as before (its bootstrap v_5 is inside the episode)
  # z_3 = 4 + .5*5 + .25*8 + .125*v_6 = 4 + 2.5 + 2 + .875 = 9.375
  # z_4 = 5 + .5*8 + .25*v_6          = 5 + 4 + 1.75       = 10.75
  np.testing.assert_allclose(item_targets(rows, 2), [13.75, 9.375, 10.75], rtol=1e-6)
  # z_5 = 8 + .5*v_6 = 11.5; the final row's target is its stored value 7; padding gets 0.
  np.testing.assert_allclose(item_targets(rows, 5), [11.5, 7.0, 0.0], rtol=1e-6)


def test_two_player_final_outcome_flips_sign_every_ply():
  # Five plies; player 0 moves at rows 0, 2, 4 and wins with the last move: u_4 = +1 (mover's
  # point of view), terminal. gamma = 1 and n = 9 reach the end from every row.
  rewards = np.asarray([0, 0, 0, 0, 1] + [0] * 9, np.float32)
  discounts = np.asarray([1, 1, 1, 1, 0] + [0] * 9, np.float32)
  root_values = np.asarray([0.3, -0.2, 0.1, -0.4, 0.9] + [0] * 9, np.float32)  # Cut: unused.
  mask = np.asarray([1] * 5 + [0] * 9, np.float32)
  rows = (rewards, discounts, root_values, mask)
  # The player to move at row k wins if k is even (player 0), loses if odd; row 5 is absorbing.
  np.testing.assert_allclose(
      item_targets(rows, 0, two_player=True, td_steps=9, num_targets=5, gamma=1.0),
      [1, -1, 1, -1, 1])
  # With n = 1: z_k = u_k - v_{k+1} (the next value is the opponent's).
  #   z_0 = 0 - (-0.2) = 0.2; z_1 = 0 - 0.1 = -0.1; z_2 = 0 - (-0.4) = 0.4; z_3 = 0 - 0.9 = -0.9
  #   z_4 = 1 - d_4 * v_5 = 1.
  np.testing.assert_allclose(
      item_targets(rows, 0, two_player=True, td_steps=1, num_targets=5, gamma=1.0),
      [0.2, -0.1, 0.4, -0.9, 1.0], rtol=1e-6)


def test_numpy_first_target_matches_tensorflow():
  rng = np.random.default_rng(0)
  batch, length, td_steps, num_targets = 16, 9, 4, 3
  rewards = rng.normal(size=(batch, length)).astype(np.float32)
  discounts = (rng.random((batch, length)) > 0.2).astype(np.float32)
  root_values = rng.normal(size=(batch, length)).astype(np.float32)
  mask = (rng.random((batch, length)) > 0.3).astype(np.float32)
  mask[:, 0] = 1
  for two_player in (False, True):
    expected = targets.value_targets(*(tf.constant(x) for x in (rewards, discounts, root_values, mask)),
                                     num_targets=num_targets, td_steps=td_steps, discount=0.9,
                                     two_player=two_player).numpy()[:, 0]
    got = [targets.first_value_target(rewards[b], discounts[b], root_values[b], mask[b] > 0,
                                      td_steps, 0.9, two_player) for b in range(batch)]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_too_short_sequences_are_rejected():
  rows = [tf.zeros([1, 4])] * 4
  with pytest.raises(ValueError, match='too short'):
    targets.value_targets(*rows, num_targets=3, td_steps=3, discount=1.0)


def test_importance_weights_are_normalised_by_their_max():
  # N = 10, P = .1, .2, .4: 1/(N P) = 1, .5, .25, already at most 1.
  weights = targets.importance_weights(tf.constant([0.1, 0.2, 0.4]), 10, exponent=1.0)
  np.testing.assert_allclose(weights.numpy(), [1.0, 0.5, 0.25], rtol=1e-6)
  # beta = .5: sqrt(1, .5, .25) = 1, .7071, .5; N = 20 doubles all raw weights, which cancels.
  weights = targets.importance_weights(tf.constant([0.1, 0.2, 0.4]), 20, exponent=0.5)
  np.testing.assert_allclose(weights.numpy(), [1.0, np.sqrt(0.5), 0.5], rtol=1e-6)
  # beta = 0 (uniform replay): all ones.
  weights = targets.importance_weights(tf.constant([0.1, 0.2, 0.4]), 10, exponent=0.0)
  np.testing.assert_allclose(weights.numpy(), [1.0, 1.0, 1.0])
