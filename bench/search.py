"""Benchmark of the compiled MuZero search: simulations per second on one pinned CPU core.

Workloads (actions, simulations, batch size) of issue 14 on a tiny MLP model so that the tree
dominates (`bench.search_workload`): 2 actions x 50 simulations at B = 1 up to chess's 4,674
actions x 100 simulations. One search = root inference + noise + the simulations + reading the
visit counts into numpy. The first call (trace + compile + one search) is timed apart; the
throughput is the median of repetitions of at least `--min_repetition_s` seconds each; "depth"
is the mean depth of a simulation, the levels it runs selection on (`mean_simulation_depth`). With
`--mctx_python` (a Python with jax and mctx, e.g. a venv under /tmp) each workload also runs
`bench.search_mctx` in a subprocess pinned to the same CPU, right after ours, for the ratio.

  python -m bench.search [--mctx_python=/tmp/mctxenv/bin/python] [--json] [--cpu=1]
  python -m bench.search --num_actions=82 --num_simulations=800 --batch_size=1
"""

import json
import os
import subprocess
from typing import Any, List, Optional

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import search_workload  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench.search_workload import Workload  # pylint: disable=g-import-not-at-top,wrong-import-position
from networks.base import NetworkOutput  # pylint: disable=g-import-not-at-top,wrong-import-position
from search import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from search import gumbel  # pylint: disable=g-import-not-at-top,wrong-import-position
from search import policies  # pylint: disable=g-import-not-at-top,wrong-import-position
from search import qtransforms  # pylint: disable=g-import-not-at-top,wrong-import-position
from search import search as search_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from search import selection  # pylint: disable=g-import-not-at-top,wrong-import-position
from search import tree as tree_lib  # pylint: disable=g-import-not-at-top,wrong-import-position


class BenchmarkNetwork(tf.Module):
  """The benchmark's MLP model (`search_workload.mlp_weights`) with scalar reward and value."""

  def __init__(self, num_actions: int, seed: int = 0):
    super().__init__()
    self.num_actions = num_actions
    weights = search_workload.mlp_weights(num_actions, seed)
    self._representation, self._dynamics, self._prediction = (
        [[tf.Variable(array) for array in layer] for layer in weights[name]]
        for name in ('representation', 'dynamics', 'prediction'))

  def initial_inference(self, observation: tf.Tensor) -> NetworkOutput:
    latent = _mlp(self._representation, observation)
    return self._predict(latent, tf.zeros([tf.shape(latent)[0]]))

  def recurrent_inference(self, latent: tf.Tensor, action: tf.Tensor) -> NetworkOutput:
    outputs = _mlp(self._dynamics,
                   tf.concat([latent, tf.one_hot(action, self.num_actions)], axis=1))
    return self._predict(outputs[:, :search_workload.LATENT_SIZE],
                         outputs[:, search_workload.LATENT_SIZE])

  def _predict(self, latent: tf.Tensor, reward: tf.Tensor) -> NetworkOutput:
    outputs = _mlp(self._prediction, latent)
    value = outputs[:, self.num_actions]
    return NetworkOutput(latent, reward, outputs[:, :self.num_actions], value, reward[:, None],
                         value[:, None])


def _mlp(layers, inputs: tf.Tensor) -> tf.Tensor:
  (hidden_weights, hidden_bias), (output_weights, output_bias) = layers
  return tf.nn.relu(inputs @ hidden_weights + hidden_bias) @ output_weights + output_bias


def search_config(workload: Workload, search_policy: str = 'muzero') -> config_lib.SearchConfig:
  """The search settings the benchmark times on `workload` (root noise on)."""
  return config_lib.SearchConfig(
      num_simulations=workload.num_simulations, discount=search_workload.DISCOUNT,
      dirichlet_alpha=search_workload.DIRICHLET_ALPHA,
      dirichlet_fraction=search_workload.DIRICHLET_FRACTION, add_noise=True,
      search_policy=search_policy)


def benchmark(workload: Workload, repetitions: int,
              min_repetition_s: float, search_policy: str = 'muzero') -> search_workload.Timing:
  """Times complete searches of our compiled search on one workload."""
  network = BenchmarkNetwork(workload.num_actions)
  config = search_config(workload, search_policy)
  observations = search_workload.observations(workload.batch_size)
  return search_workload.time_searches(
      lambda seed: policies.run_search(network, observations, None, seed,
                                       config).visit_counts.numpy(),
      workload, repetitions, min_repetition_s)


def _select_action_without_noise(config: config_lib.SearchConfig,
                                 workload: Workload) -> selection.SelectActionFn:
  """The selection rule `SearchFn` runs with `config`, without root noise."""
  signed_discount = tree_lib.signed_discount(config.discount, config.two_player)
  if config.search_policy == 'gumbel':
    return gumbel.selection_fn(
        tf.zeros([workload.batch_size, workload.num_actions]), config.num_simulations,
        config.max_num_considered_actions, signed_discount, config.gumbel_c_visit,
        config.gumbel_c_scale)
  return selection.puct(config.pb_c_init, config.pb_c_base, signed_discount,
                        qtransforms.UNVISITED_Q_TRANSFORMS[config.unvisited_q])


def mean_simulation_depth(workload: Workload, search_policy: str = 'muzero') -> float:
  """Mean depth of a simulation (`search_workload.mean_depth`) in the workload's trees.

  The trees are those of `benchmark`'s search (same `search_policy`) without the root noise
  (`SearchFn` returns no tree), built by the same `search.search.run_simulations`.
  """
  network = BenchmarkNetwork(workload.num_actions)
  config = search_config(workload, search_policy)

  @tf.function(jit_compile=True, autograph=False)
  def parents(observations):
    root = network.initial_inference(observations)
    tree = tree_lib.init_tree(
        root.latent, tf.nn.softmax(root.policy_logits), root.value,
        tf.ones([workload.batch_size, workload.num_actions], tf.bool), workload.num_simulations,
        qtransforms.init_min_max_stats(workload.batch_size))
    return search_lib.run_simulations(
        tree, network, workload.num_simulations, _select_action_without_noise(config, workload),
        tree_lib.signed_discount(config.discount, config.two_player)).parents

  return search_workload.mean_depth(
      parents(search_workload.observations(workload.batch_size)).numpy())


def benchmark_mctx(mctx_python: str, workload: Workload, args: Any) -> dict:
  """The mctx side's figures of one workload (`bench.search_mctx` in `mctx_python`)."""
  command = [mctx_python, '-m', 'bench.search_mctx', f'--num_actions={workload.num_actions}',
             f'--num_simulations={workload.num_simulations}',
             f'--batch_size={workload.batch_size}', f'--repetitions={args.repetitions}',
             f'--min_repetition_s={args.min_repetition_s}', f'--cpu={args.cpu}']
  repository = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  completed = subprocess.run(command, cwd=repository, capture_output=True, text=True,
                             check=False)
  if completed.returncode != 0:
    raise RuntimeError(f'{" ".join(command)} failed:\n{completed.stderr[-2000:]}')
  return json.loads(completed.stdout.strip().splitlines()[-1])


def workloads(args: Any) -> List[Workload]:
  """The table's workloads, or the one the flags ask for (missing flags from the first row)."""
  chosen = (args.num_actions, args.num_simulations, args.batch_size)
  if all(value is None for value in chosen):
    return list(search_workload.WORKLOADS)
  default = search_workload.WORKLOADS[0]
  return [Workload(*(default[i] if value is None else value for i, value in enumerate(chosen)))]


def define_flags() -> None:
  """The command line of `python -m bench.search`."""
  for name, what in (('num_actions', 'many actions'), ('num_simulations', 'many simulations'),
                     ('batch_size', 'batch size')):
    flags.DEFINE_integer(name, None, f'Run one workload with this {what} (default: the table).',
                         lower_bound=1)
  flags.DEFINE_enum('search_policy', 'muzero', config_lib.SEARCH_POLICIES,
                    'Our search policy to time (gumbel: Gumbel noise, no Dirichlet).')
  flags.DEFINE_string('mctx_python', None, 'Python interpreter with jax and mctx: measure mctx '
                      'too.')
  harness.define_json_flag(summary=False)
  flags.DEFINE_integer('repetitions', 5, 'Timed repetitions; the figures are their median, of '
                       'at least 5.', lower_bound=5)
  flags.DEFINE_float('min_repetition_s', 1.0, 'Minimum duration of one repetition in seconds, '
                     'at least 1.', lower_bound=1.0)
  harness.define_cpu_flag()


def main(args) -> None:
  # Importing this module pins nothing; the mctx subprocess inherits OMP_NUM_THREADS=1.
  harness.use_one_core(args.cpu)
  if not args.json:
    print(f'{harness.command_line("bench.search")}  (pinned to CPU {args.cpu}, 1 thread, '
          f'TensorFlow {tf.__version__})')
    print(f'{"actions":>8} {"sims":>5} {"B":>4} {"sims/s":>10} {"searches/s":>11} '
          f'{"compile s":>10} {"depth":>6}' +
          (f' {"mctx sims/s":>12} {"mctx compile s":>15} {"mctx depth":>11} {"ratio":>6}'
           if args.mctx_python else ''))
  mctx: Optional[dict] = None
  for workload in workloads(args):
    ours = benchmark(workload, args.repetitions, args.min_repetition_s, args.search_policy)
    depth = mean_simulation_depth(workload, args.search_policy)
    mctx = (benchmark_mctx(args.mctx_python, workload, args) if args.mctx_python else None)
    if args.json:
      print(json.dumps({**workload._asdict(), **ours._asdict(), 'mean_depth': depth,
                        'mctx': mctx}), flush=True)
      continue
    line = (f'{workload.num_actions:>8} {workload.num_simulations:>5} {workload.batch_size:>4} '
            f'{ours.sims_per_s:>10,.0f} {ours.searches_per_s:>11,.2f} {ours.compile_s:>10.2f} '
            f'{depth:>6.1f}')
    if mctx is not None:
      line += (f' {mctx["sims_per_s"]:>12,.0f} {mctx["compile_s"]:>15.2f} '
               f'{mctx["mean_depth"]:>11.1f} {ours.sims_per_s / mctx["sims_per_s"]:>6.2f}')
    print(line, flush=True)
  if mctx is not None and not args.json:
    print(f'mctx {mctx["mctx"]} on jax {mctx["jax"]} ({args.mctx_python})')


if __name__ == '__main__':
  harness.run(define_flags, main)
