"""bench.search: the depth it prints beside the throughput comes from the search it times."""

import json
import os
import subprocess
import sys

import pytest

from bench import search
from bench.search_workload import Workload

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize('search_policy', ['muzero', 'gumbel'])
def test_one_simulation_is_one_level_deep(search_policy):
  assert search.mean_simulation_depth(Workload(2, 1, 2), search_policy) == 1.0


@pytest.mark.parametrize('search_policy', ['muzero', 'gumbel'])
def test_one_action_grows_a_chain(search_policy):
  # With a single action every simulation extends the same line: depths 1, 2, 3, 4.
  assert search.mean_simulation_depth(Workload(1, 4, 1), search_policy) == 2.5


def _run_search_benchmark(*flags):
  return subprocess.run([sys.executable, '-m', 'bench.search', *flags], cwd=ROOT, text=True,
                        capture_output=True, timeout=300,
                        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))


def test_one_workload_prints_one_json_line_with_its_figures():
  cpu = min(os.sched_getaffinity(0))
  process = _run_search_benchmark('--num_actions=3', '--num_simulations=1', '--batch_size=2',
                                  '--search_policy=gumbel', '--json', f'--cpu={cpu}')
  assert process.returncode == 0, process.stderr[-3000:]
  [line] = process.stdout.strip().splitlines()
  result = json.loads(line)
  assert (result['num_actions'], result['num_simulations'], result['batch_size']) == (3, 1, 2)
  assert result['mean_depth'] == 1.0 and result['sims_per_s'] > 0 and result['mctx'] is None


@pytest.mark.parametrize('flag, message', [
    ('--repetitions=4', 'flag --repetitions=4: 4 is not integer >= 5'),
    ('--num_actions=0', 'flag --num_actions=0: 0 is not a positive integer'),
    ('--search_policy=alphazero', 'flag --search_policy=alphazero: value should be one of '
     '<muzero|gumbel>'),
    ('--cpu=4096', '--cpu=4096 is not allowed; allowed: one of the CPUs'),
])
def test_bad_flags_name_the_value_and_what_is_allowed(flag, message):
  process = _run_search_benchmark(flag)
  assert process.returncode != 0
  assert message in process.stderr
