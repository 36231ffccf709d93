"""The mctx side of `bench.search`: DeepMind's mctx (JAX) on the same workloads, for the ratio.

Runs in a separate Python environment with jax and mctx (never this project's, which has no mctx),
started by `bench.search --mctx_python=...`, one process per workload pinned to the same CPU. The
search is `mctx.muzero_policy` (pUCT, mctx's default Q transform), jitted together with the root
inference and the Dirichlet noise, on the same MLP weights as ours; one search ends when its
visit counts are in numpy, as on our side. Prints one JSON line, with the mean depth of the
simulations of the first search (mctx's default Q transform gives unvisited children a value
from their parent and siblings, which shapes its trees differently from the paper's rule).

  python -m bench.search_mctx --num_actions=82 --num_simulations=800 --batch_size=1
"""

import argparse
import json
import os


def _parse_args() -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--num_actions', type=int, required=True)
  parser.add_argument('--num_simulations', type=int, required=True)
  parser.add_argument('--batch_size', type=int, required=True)
  parser.add_argument('--repetitions', type=int, default=5)
  parser.add_argument('--min_repetition_s', type=float, default=1.0)
  parser.add_argument('--cpu', type=int, default=1)
  return parser.parse_args()


if __name__ == '__main__':
  ARGS = _parse_args()
  # One core, one thread: set before JAX starts its thread pools.
  os.environ['XLA_FLAGS'] = ('--xla_cpu_multi_thread_eigen=false '
                             'intra_op_parallelism_threads=1')
  os.sched_setaffinity(0, {ARGS.cpu})

import jax  # pylint: disable=g-import-not-at-top,wrong-import-position
import jax.numpy as jnp  # pylint: disable=g-import-not-at-top,wrong-import-position
import mctx  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import search_workload  # pylint: disable=g-import-not-at-top,wrong-import-position


def _mlp(layers, inputs):
  (hidden_weights, hidden_bias), (output_weights, output_bias) = layers
  return jax.nn.relu(inputs @ hidden_weights + hidden_bias) @ output_weights + output_bias


def make_search(workload: search_workload.Workload):
  """A jitted function (params, observations, seed) -> visit counts [B, A] and parents [B, N]
  of one batched search."""
  num_actions = workload.num_actions

  def predict(params, latent):
    outputs = _mlp(params['prediction'], latent)
    return outputs[:, :num_actions], outputs[:, num_actions]

  def recurrent_fn(params, unused_rng, action, latent):
    outputs = _mlp(params['dynamics'],
                   jnp.concatenate([latent, jax.nn.one_hot(action, num_actions)], axis=1))
    next_latent, reward = outputs[:, :search_workload.LATENT_SIZE], outputs[:, -1]
    logits, value = predict(params, next_latent)
    return mctx.RecurrentFnOutput(
        reward=reward, discount=jnp.full_like(reward, search_workload.DISCOUNT),
        prior_logits=logits, value=value), next_latent

  @jax.jit
  def search(params, observations, seed):
    latent = _mlp(params['representation'], observations)
    logits, value = predict(params, latent)
    output = mctx.muzero_policy(
        params, jax.random.PRNGKey(seed),
        mctx.RootFnOutput(prior_logits=logits, value=value, embedding=latent), recurrent_fn,
        workload.num_simulations, dirichlet_fraction=search_workload.DIRICHLET_FRACTION,
        dirichlet_alpha=search_workload.DIRICHLET_ALPHA)
    return output.search_tree.summary().visit_counts, output.search_tree.parents

  return search


def main(args: argparse.Namespace) -> None:
  workload = search_workload.Workload(args.num_actions, args.num_simulations, args.batch_size)
  params = jax.tree_util.tree_map(jnp.asarray, search_workload.mlp_weights(args.num_actions))
  observations = jnp.asarray(search_workload.observations(args.batch_size))
  search = make_search(workload)
  timing = search_workload.time_searches(
      lambda seed: np.asarray(search(params, observations, seed)[0]), workload,
      args.repetitions, args.min_repetition_s)
  depth = search_workload.mean_depth(np.asarray(search(params, observations, 0)[1]))
  print(json.dumps({'jax': jax.__version__, 'mctx': mctx.__version__, 'mean_depth': depth,
                    **timing._asdict()}))


if __name__ == '__main__':
  main(ARGS)
