"""bench.search: the depth it prints beside the throughput comes from the search it times."""

import pytest

from bench import search
from bench.search_workload import Workload


@pytest.mark.parametrize('search_policy', ['muzero', 'gumbel'])
def test_one_simulation_is_one_level_deep(search_policy):
  assert search.mean_simulation_depth(Workload(2, 1, 2), search_policy) == 1.0


@pytest.mark.parametrize('search_policy', ['muzero', 'gumbel'])
def test_one_action_grows_a_chain(search_policy):
  # With a single action every simulation extends the same line: depths 1, 2, 3, 4.
  assert search.mean_simulation_depth(Workload(1, 4, 1), search_policy) == 2.5
