"""A plain-Python MuZero MCTS written from the paper's pseudocode, to check the batched search.

One Node object per node, a children dict, MinMaxStats, ucb_score and backpropagate, one search
at a time on batch-1 network calls, float64 arithmetic. Where the pseudocode leaves a choice
open, it is made here exactly as documented in search/ (and nowhere else):
  * sign convention: a reward is seen from the player who acted, a node's value from the player
    to move at the node; for two players (alternating turns) a child's value is negated when
    seen from its parent, both in Q and in backpropagate;
  * unvisited children score a value term of 0 (the pseudocode's rule);
  * MinMaxStats is updated in backpropagate with the Q of the edge into each node on the path,
    reward + discount * (sign) node.value(), the quantity that ucb_score normalises; the root,
    reached by no edge, adds nothing;
  * the root is backpropagated once with its own network value right after its expansion (as
    in the Stochastic MuZero pseudocode), so every node's value sum starts with its own
    estimate and the root's visit count is num_simulations + 1;
  * ties in select_child go to the lowest action index (the pseudocode's max() over
    (score, action, child) tuples would pick the highest).
It also records, at every selection, the margin between the best and second-best pUCT score, so
that a test can tell a real disagreement from a float near-tie between two implementations.
"""

import dataclasses
import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np


class MinMaxStats:
  """Running bounds of the Q values in the tree (the pseudocode's class)."""

  def __init__(self, known_bounds: Optional[Tuple[float, float]]):
    self.maximum = known_bounds[1] if known_bounds else -math.inf
    self.minimum = known_bounds[0] if known_bounds else math.inf

  def update(self, value: float) -> None:
    self.maximum = max(self.maximum, value)
    self.minimum = min(self.minimum, value)

  def normalize(self, value: float) -> float:
    if self.maximum > self.minimum:
      return (value - self.minimum) / (self.maximum - self.minimum)
    return value


class Node:
  """One node of the tree (the pseudocode's class)."""

  def __init__(self, prior: float):
    self.visit_count = 0
    self.to_play = -1
    self.prior = prior
    self.value_sum = 0.0
    self.children: Dict[int, 'Node'] = {}
    self.hidden_state: Optional[np.ndarray] = None
    self.reward = 0.0

  def expanded(self) -> bool:
    return len(self.children) > 0

  def value(self) -> float:
    if self.visit_count == 0:
      return 0.0
    return self.value_sum / self.visit_count


@dataclasses.dataclass
class ReferenceConfig:
  num_simulations: int
  discount: float
  two_player: bool
  pb_c_init: float = 1.25
  pb_c_base: float = 19652.0
  known_bounds: Optional[Tuple[float, float]] = None


@dataclasses.dataclass
class ReferenceResult:
  visit_counts: np.ndarray  # [A]
  root_value: float
  q_values: np.ndarray  # [A], 0 for unvisited actions
  smallest_score_margin: float  # over every selection of the search


def run_mcts(config: ReferenceConfig, network: Any, observation: np.ndarray,
             legal_actions: Sequence[bool]) -> ReferenceResult:
  """One search from one observation [...] (no batch dimension), noise off."""
  num_actions = network.num_actions
  min_max_stats = MinMaxStats(config.known_bounds)
  margins: List[float] = []

  root = Node(0)
  root_output = _numpy_output(network.initial_inference(observation[None]))
  legal = [action for action in range(num_actions) if legal_actions[action]]
  expand_node(root, 0, legal, root_output)
  backpropagate(config, [root], root_output['value'], min_max_stats)

  for _ in range(config.num_simulations):
    node = root
    search_path = [node]
    action = -1
    while node.expanded():
      action, node, margin = select_child(config, search_path[-1], min_max_stats)
      margins.append(margin)
      search_path.append(node)
    parent = search_path[-2]
    output = _numpy_output(network.recurrent_inference(
        parent.hidden_state[None], np.array([action], np.int32)))
    to_play = 1 - parent.to_play if config.two_player else parent.to_play
    expand_node(node, to_play, list(range(num_actions)), output)
    backpropagate(config, search_path, output['value'], min_max_stats)

  visit_counts = np.zeros(num_actions, np.int64)
  q_values = np.zeros(num_actions)
  for action, child in root.children.items():
    visit_counts[action] = child.visit_count
    if child.visit_count > 0:
      q_values[action] = edge_q(config, root, child)
  return ReferenceResult(visit_counts, root.value(), q_values,
                         min(margins) if margins else math.inf)


def select_child(config: ReferenceConfig, node: Node,
                 min_max_stats: MinMaxStats) -> Tuple[int, Node, float]:
  """Child with the highest UCB score, lowest action on ties, and the margin to the runner-up."""
  scored = sorted(((-ucb_score(config, node, child, min_max_stats), action)
                   for action, child in node.children.items()))
  margin = scored[1][0] - scored[0][0] if len(scored) > 1 else math.inf
  action = scored[0][1]
  return action, node.children[action], margin


def ucb_score(config: ReferenceConfig, parent: Node, child: Node,
              min_max_stats: MinMaxStats) -> float:
  pb_c = math.log((parent.visit_count + config.pb_c_base + 1) / config.pb_c_base) + config.pb_c_init
  pb_c *= math.sqrt(parent.visit_count) / (child.visit_count + 1)
  prior_score = pb_c * child.prior
  if child.visit_count > 0:
    value_score = min_max_stats.normalize(edge_q(config, parent, child))
  else:
    value_score = 0
  return prior_score + value_score


def edge_q(config: ReferenceConfig, parent: Node, child: Node) -> float:
  """reward + discount * child value, both seen from the player to move at the parent."""
  sign = 1.0 if child.to_play == parent.to_play else -1.0
  return child.reward + config.discount * sign * child.value()


def expand_node(node: Node, to_play: int, actions: List[int],
                network_output: Dict[str, Any]) -> None:
  node.to_play = to_play
  node.hidden_state = network_output['latent']
  node.reward = network_output['reward']
  logits = network_output['policy_logits']
  policy = {a: math.exp(logits[a] - max(logits[b] for b in actions)) for a in actions}
  policy_sum = sum(policy.values())
  for action, p in policy.items():
    node.children[action] = Node(p / policy_sum)


def backpropagate(config: ReferenceConfig, search_path: List[Node], value: float,
                  min_max_stats: MinMaxStats) -> None:
  """`value` is the leaf's, for its player to move; each node sums values for its own player."""
  for depth in reversed(range(len(search_path))):
    node = search_path[depth]
    node.value_sum += value
    node.visit_count += 1
    if depth > 0:
      parent = search_path[depth - 1]
      min_max_stats.update(edge_q(config, parent, node))
      sign = 1.0 if node.to_play == parent.to_play else -1.0
      value = node.reward + config.discount * sign * value


def _numpy_output(output: Any) -> Dict[str, Any]:
  return {
      'latent': np.asarray(output.latent)[0],
      'reward': float(np.asarray(output.reward)[0]),
      'policy_logits': [float(logit) for logit in np.asarray(output.policy_logits)[0]],
      'value': float(np.asarray(output.value)[0]),
  }
