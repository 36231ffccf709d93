"""What `bench.search` measures, shared by its TensorFlow side and its mctx side (numpy only).

The model is a tiny MLP so that the tree, not the network, dominates a simulation: observation
size 4, latent 64; representation 4->64->64, dynamics (64 latent + one-hot action)->64->(64 latent
+ 1 reward), prediction 64->64->(A logits + 1 value), ReLU, scalar heads, random weights drawn
from one numpy seed so that both sides run the same numbers. Searches use discount 0.997 and
Dirichlet noise (alpha 0.25, fraction 0.25).
"""

import statistics
import time
from typing import Callable, Dict, List, NamedTuple

import numpy as np

OBSERVATION_SIZE = 4
LATENT_SIZE = 64
HIDDEN_SIZE = 64
DISCOUNT = 0.997
DIRICHLET_ALPHA = 0.25
DIRICHLET_FRACTION = 0.25


class Workload(NamedTuple):
  num_actions: int
  num_simulations: int
  batch_size: int


# Issue 14's table: CartPole-sized, tic-tac-toe-sized, Go 9x9 at B = 16 and at the paper's 800
# simulations, and chess's 4,674 actions.
WORKLOADS = (Workload(2, 50, 1), Workload(9, 25, 16), Workload(82, 200, 16),
             Workload(82, 800, 1), Workload(4674, 100, 1))

Layer = List[np.ndarray]  # [weights, bias]


def mlp_weights(num_actions: int, seed: int = 0) -> Dict[str, List[Layer]]:
  """Weights of the representation, dynamics and prediction MLPs (two layers each)."""
  rng = np.random.default_rng(seed)

  def dense(fan_in: int, fan_out: int) -> Layer:
    return [(rng.normal(size=(fan_in, fan_out)) / np.sqrt(fan_in)).astype(np.float32),
            np.zeros(fan_out, np.float32)]

  return {
      'representation': [dense(OBSERVATION_SIZE, HIDDEN_SIZE), dense(HIDDEN_SIZE, LATENT_SIZE)],
      'dynamics': [dense(LATENT_SIZE + num_actions, HIDDEN_SIZE),
                   dense(HIDDEN_SIZE, LATENT_SIZE + 1)],
      'prediction': [dense(LATENT_SIZE, HIDDEN_SIZE), dense(HIDDEN_SIZE, num_actions + 1)],
  }


def observations(batch_size: int) -> np.ndarray:
  return np.random.default_rng(1).normal(size=(batch_size, OBSERVATION_SIZE)).astype(np.float32)


class Timing(NamedTuple):
  sims_per_s: float
  searches_per_s: float
  compile_s: float


def mean_depth(parents: np.ndarray) -> float:
  """Mean depth of the nodes below the roots of trees with parent indices `parents` [B, N].

  Node k + 1 is made by simulation k, which descended through as many levels as the node is
  deep: with pUCT's work per level O(A), the mean depth tells how much work a simulation does.
  Parents come before their children (node indices grow with the simulations).
  """
  depths = np.zeros(parents.shape, np.int64)
  for node in range(1, parents.shape[1]):
    depths[:, node] = depths[np.arange(parents.shape[0]), parents[:, node]] + 1
  return float(depths[:, 1:].mean())


def time_searches(one_search: Callable[[int], object], workload: Workload, repetitions: int,
                  min_repetition_s: float) -> Timing:
  """Times `one_search(seed)`: the first call (trace + compile + one search) apart, then the
  median of `repetitions` repetitions of at least `min_repetition_s` seconds each."""
  seed = 0
  start = time.perf_counter()
  one_search(seed)
  compile_s = time.perf_counter() - start
  seconds_per_search = []
  for _ in range(repetitions):
    num_searches = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_repetition_s:
      seed += 1
      one_search(seed)
      num_searches += 1
    seconds_per_search.append(elapsed / num_searches)
  searches_per_s = 1.0 / statistics.median(seconds_per_search)
  return Timing(searches_per_s * workload.batch_size * workload.num_simulations, searches_per_s,
                compile_s)
