"""Gumbel MuZero: policy improvement by planning with Gumbel (Danihelka et al. 2022, ICLR).

What changes from MuZero's pUCT search (the tree, expansion and backup stay the same):
  * Root: Gumbel-top-k samples m = `max_num_considered_actions` actions without replacement
    (the top m of g + logits, g standard Gumbel variables), and sequential halving spends the
    simulation budget on them: in each of ceil(log2 m) phases every remaining action gets the
    same number of visits, then the better half by g + logits + sigma(q) stays; from 2 actions on
    the last two share what is left of the budget (`considered_visits_table`).
  * Completed Q: an unvisited action's Q is the mixed value v_mix, the network value mixed with
    the prior-weighted Q of the visited actions (the paper's eq. 33, `mixed_value`).
  * sigma(q) = (c_visit + max_b N(b)) c_scale q of the completed Q min-max normalised over the
    node's selectable actions (as mctx's `qtransform_completed_by_mix_value` rescales).
  * Below the root the choice is deterministic: argmax of the improved policy
    pi' = softmax(logits + sigma(completed Q)) minus the visit proportion N(a) / (1 + sum_b N(b)).
  * The search plays A_{n+1}, the argmax of g + logits + sigma(q) among the most visited
    actions (the survivors of sequential halving), and the learner trains on pi' at the root.
Without noise (g = 0) the same rules make the greedy evaluation player.

Sequential halving is computed in-graph: simulation s at the root may only pick among actions
whose visit count equals the count the schedule gives simulation s, and picks the best of them
by g + logits + sigma(q). In the first phase every action has the same completed Q (v_mix), so
the first m visits go to the top m of g + logits, which is Gumbel-top-k. The schedule is a static
table indexed by (number of considered actions, simulation): no per-simulation Python.
"""

import functools
import math
from typing import Tuple

import numpy as np
import tensorflow as tf

from search import qtransforms
from search import selection
from search import tree as tree_lib

# Normalised Q range below which all completed Q of a node count as equal (mctx's epsilon).
_EPSILON = 1e-8
_TINY = np.finfo(np.float32).tiny


def considered_visits(num_considered: int, num_simulations: int) -> np.ndarray:
  """[num_simulations] visit count an action needs to be chosen at each root simulation.

  Sequential halving of `num_simulations` over `num_considered` actions: ceil(log2(k)) phases;
  in a phase with k actions each gets max(1, floor(n / (ceil(log2(num_considered)) k))) visits,
  one round at a time (every action with the round's count gets one more); then k halves, but
  never below 2, and the last phase repeats until the budget is spent. One action takes every
  visit.
  """
  if num_considered <= 1:
    return np.arange(num_simulations, dtype=np.int32)
  num_phases = math.ceil(math.log2(num_considered))
  schedule, visits, considered = [], 0, num_considered
  while len(schedule) < num_simulations:
    rounds = max(1, num_simulations // (num_phases * considered))
    for _ in range(rounds):
      schedule.extend([visits] * considered)
      visits += 1
    considered = max(2, considered // 2)
  return np.asarray(schedule[:num_simulations], np.int32)


def considered_visits_table(max_num_considered: int, num_simulations: int) -> np.ndarray:
  """[max_num_considered + 1, num_simulations] int32: row k is `considered_visits(k, n)`.

  Rows differ because a root with fewer legal actions than m considers all of them.
  """
  return np.stack([considered_visits(num_considered, num_simulations)
                   for num_considered in range(max_num_considered + 1)])


def mixed_value(node: qtransforms.NodeStatistics) -> tf.Tensor:
  """[B] v_mix = (v + sum_b N(b) * sum_{a visited} pi(a) q(a) / sum_{a visited} pi(a)) /
  (1 + sum_b N(b)), the paper's estimate of the node's value under the prior pi (eq. 33)."""
  visited = node.visits > 0
  total_visits = tf.cast(tf.reduce_sum(node.visits, axis=-1), tf.float32)
  # The floor keeps the weights defined when every visited action has prior 0.
  prior = tf.where(visited, tf.maximum(node.prior, _TINY), tf.zeros_like(node.prior))
  visited_prior = tf.reduce_sum(prior, axis=-1)
  weighted_q = tf.reduce_sum(prior * node.q_values, axis=-1) / tf.where(
      visited_prior > 0, visited_prior, tf.ones_like(visited_prior))
  return (node.value + total_visits * weighted_q) / (1.0 + total_visits)


def completed_q(node: qtransforms.NodeStatistics) -> tf.Tensor:
  """[B, A] Q of visited actions, v_mix (`mixed_value`) of unvisited ones."""
  return tf.where(node.visits > 0, node.q_values,
                  mixed_value(node)[:, None] + tf.zeros_like(node.q_values))


def sigma_completed_q(node: qtransforms.NodeStatistics, c_visit: float,
                      c_scale: float) -> tf.Tensor:
  """[B, A] sigma(completed Q): normalised to [0, 1] over the selectable actions of each node,
  then scaled by (c_visit + max_b N(b)) c_scale; 0 on actions that are not selectable."""
  completed = completed_q(node)
  lowest = tf.reduce_min(
      tf.where(node.selectable, completed, tf.fill(tf.shape(completed), np.inf)),
      axis=-1, keepdims=True)
  highest = tf.reduce_max(
      tf.where(node.selectable, completed, tf.fill(tf.shape(completed), -np.inf)),
      axis=-1, keepdims=True)
  normalized = (completed - lowest) / tf.maximum(highest - lowest, _EPSILON)
  max_visits = tf.cast(tf.reduce_max(node.visits, axis=-1, keepdims=True), tf.float32)
  return tf.where(node.selectable, (c_visit + max_visits) * c_scale * normalized,
                  tf.zeros_like(normalized))


def prior_logits(node: qtransforms.NodeStatistics) -> tf.Tensor:
  """[B, A] log prior of the selectable actions (floored, so finite), -inf elsewhere.

  The tree keeps priors, not logits; log(softmax(l)) = l - logsumexp(l) differs from the logits
  by a constant per node, which neither softmax nor an argmax sees.
  """
  return tf.where(node.selectable, tf.math.log(tf.maximum(node.prior, _TINY)),
                  tf.fill(tf.shape(node.prior), -np.inf))


def logits_plus_sigma(node: qtransforms.NodeStatistics, c_visit: float,
                      c_scale: float) -> tf.Tensor:
  """[B, A] logits + sigma(completed Q), what the improved policy and both choices rank by."""
  return prior_logits(node) + sigma_completed_q(node, c_visit, c_scale)


def improved_policy(node: qtransforms.NodeStatistics, c_visit: float,
                    c_scale: float) -> tf.Tensor:
  """[B, A] pi' = softmax(logits + sigma(completed Q)), 0 on actions that are not selectable."""
  return tf.nn.softmax(logits_plus_sigma(node, c_visit, c_scale))


def _best_among(scores: tf.Tensor, candidates: tf.Tensor) -> tf.Tensor:
  """[B] int32 argmax of `scores` [B, A] over `candidates` [B, A] (lowest index on ties), by
  `selection.first_argmax` as pUCT: tf.argmax runs element by element under XLA on CPU."""
  return selection.first_argmax(
      tf.where(candidates, scores, tf.fill(tf.shape(scores), -np.inf)))


def select_action(tree: tree_lib.Tree, node: tf.Tensor, *, gumbel: tf.Tensor,
                  considered_visits_by_count: tf.Tensor, max_num_considered: int,
                  signed_discount_factor: float, c_visit: float, c_scale: float) -> tf.Tensor:
  """[B] int32 action at `node` [B]: sequential halving at the root, pi' - N / (1 + sum N) below.

  Args:
    tree: The trees.
    node: [B] the node of each tree to choose at.
    gumbel: [B, A] the roots' Gumbel variables.
    considered_visits_by_count: [m + 1, num_simulations] int32 `considered_visits_table`.
    max_num_considered: m.
    signed_discount_factor: See `tree.signed_discount`.
    c_visit, c_scale: sigma's constants.
  """
  statistics = selection.node_statistics(tree, node, signed_discount_factor)
  logits_and_q = logits_plus_sigma(statistics, c_visit, c_scale)

  # At a root, a row's visits sum to the simulations done so far.
  num_considered = tf.minimum(
      max_num_considered, tf.reduce_sum(tf.cast(statistics.selectable, tf.int32), axis=-1))
  simulation = tf.reduce_sum(statistics.visits, axis=-1)
  required_visits = tf.gather_nd(considered_visits_by_count,
                                 tf.stack([num_considered, simulation], axis=-1))
  root_action = _best_among(
      gumbel + logits_and_q,
      tf.logical_and(statistics.selectable,
                     tf.equal(statistics.visits, required_visits[:, None])))

  visit_share = tf.cast(statistics.visits, tf.float32) / tf.cast(
      tree_lib.node_visits(statistics.visits), tf.float32)[:, None]
  interior_action = _best_among(tf.nn.softmax(logits_and_q) - visit_share, statistics.selectable)
  return tf.where(tf.equal(node, tree_lib.ROOT_INDEX), root_action, interior_action)


def selection_fn(gumbel: tf.Tensor, num_simulations: int, max_num_considered: int,
                 signed_discount_factor: float, c_visit: float,
                 c_scale: float) -> selection.SelectActionFn:
  """Gumbel MuZero's `select_action` for one search as the search's `SelectActionFn`."""
  num_actions = gumbel.shape[-1]
  max_num_considered = min(max_num_considered, num_actions)
  return functools.partial(
      select_action, gumbel=gumbel,
      considered_visits_by_count=tf.constant(
          considered_visits_table(max_num_considered, num_simulations)),
      max_num_considered=max_num_considered, signed_discount_factor=signed_discount_factor,
      c_visit=c_visit, c_scale=c_scale)


def root_policy_and_action(tree: tree_lib.Tree, gumbel: tf.Tensor, signed_discount_factor: float,
                           c_visit: float, c_scale: float) -> Tuple[tf.Tensor, tf.Tensor]:
  """After the search: (improved policy pi' [B, A], action to play [B] int32).

  The action is A_{n+1}: the argmax of g + logits + sigma(q) among the most visited actions,
  the ones sequential halving left.
  """
  root = tf.fill([tree.parents.shape[0]], tree_lib.ROOT_INDEX)
  statistics = selection.node_statistics(tree, root, signed_discount_factor)
  most_visited = tf.equal(statistics.visits,
                          tf.reduce_max(statistics.visits, axis=-1, keepdims=True))
  action = _best_among(gumbel + logits_plus_sigma(statistics, c_visit, c_scale),
                       tf.logical_and(statistics.selectable, most_visited))
  return improved_policy(statistics, c_visit, c_scale), action
