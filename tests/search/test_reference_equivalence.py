"""The batched, compiled search against the plain-Python reference MCTS, tree by tree.

Both run the paper's pUCT search on the same random networks with noise off; every tree of the
batch must reach the reference's visit counts exactly and its root value and root Q values to
1e-5. Float32 (batched, XLA) and float64 (reference) arithmetic agree only to about 1e-6, so a
selection whose best and second-best pUCT scores are closer than `AMBIGUOUS_MARGIN` could go
either way; such a case fails as numerically ambiguous instead of passing or failing by luck.
"""

import functools

import numpy as np
import pytest

from search import config as config_lib
from search import policies
from tests.search import reference_mcts
from tests.search import tiny_networks

OBSERVATION_SIZE = 5
NUM_ACTIONS = 3
NUM_SIMULATIONS = 20
DISCOUNT = 0.9
AMBIGUOUS_MARGIN = 1e-5


def _assert_matches_reference(network, batch_size: int, observation_seed: int, two_player: bool,
                              value_bounds=None) -> None:
  rng = np.random.default_rng(observation_seed)
  observations = rng.normal(size=(batch_size, OBSERVATION_SIZE)).astype(np.float32)
  legal_actions = rng.random((batch_size, NUM_ACTIONS)) < 0.75
  legal_actions[np.arange(batch_size), rng.integers(NUM_ACTIONS, size=batch_size)] = True
  config = config_lib.SearchConfig(num_simulations=NUM_SIMULATIONS, discount=DISCOUNT,
                                   add_noise=False, two_player=two_player,
                                   value_bounds=value_bounds)
  output = policies.run_search(network, observations, legal_actions, seed=0, config=config)

  reference_config = reference_mcts.ReferenceConfig(NUM_SIMULATIONS, DISCOUNT, two_player,
                                                    known_bounds=value_bounds)
  for row in range(batch_size):
    expected = reference_mcts.run_mcts(reference_config, network, observations[row],
                                       legal_actions[row])
    case = (f'tree {row} (batch {batch_size}, observation seed {observation_seed}, '
            f'two_player={two_player}, value_bounds={value_bounds})')
    assert expected.smallest_score_margin >= AMBIGUOUS_MARGIN, (
        f'{case} is numerically ambiguous: two pUCT scores were within '
        f'{expected.smallest_score_margin:.2e} of each other at some selection, closer than '
        f'float32 and float64 can be trusted to agree; pick another seed.')
    np.testing.assert_array_equal(output.visit_counts[row].numpy(), expected.visit_counts,
                                  err_msg=case)
    np.testing.assert_allclose(output.root_value[row].numpy(), expected.root_value, atol=1e-5,
                               err_msg=case)
    np.testing.assert_allclose(output.q_values[row].numpy(), expected.q_values, atol=1e-5,
                               err_msg=case)


@functools.lru_cache(maxsize=None)
def _network(seed: int) -> tiny_networks.RandomNetwork:
  """One network per seed for the module, so that its searches compile once per batch size.

  Network 1 has an image-shaped latent state ([2, 2, 3], so [B, N, 2, 2, 3] in the tree).
  """
  latent_shape = (2, 2, 3) if seed == 1 else (8,)
  return tiny_networks.RandomNetwork(OBSERVATION_SIZE, NUM_ACTIONS, latent_shape, seed=seed)


# Each case compiles one search; two-player board games' known bounds ride on the last one.
@pytest.mark.parametrize('network_seed, batch_size, two_player, value_bounds', [
    (0, 1, False, None),
    (0, 1, True, None),
    (0, 5, False, None),
    (0, 5, True, None),
    (1, 5, False, None),
    (1, 5, True, (-1.0, 1.0)),
])
def test_matches_reference(network_seed, batch_size, two_player, value_bounds):
  for observation_seed in range(3):
    _assert_matches_reference(_network(network_seed), batch_size, observation_seed, two_player,
                              value_bounds)
