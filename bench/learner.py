"""Benchmark of the MuZero learner: learner steps per second at batch 256, K = 5, CartPole network.

Workload: `agents.muzero.config.cartpole()` network (MLP, latent 64, width 64, 41-bin supports)
and targets (K = 5, n = 10 through a target network, sequences of 16 steps, consistency loss),
batch 256, Adam. The replay table is filled
first with CartPole-v1 sequences from a uniformly random policy (uniform search policies, zero
root values) written by the real replay writer, so the timed steps include the whole learner path:
prioritized Reverb sampling through Acme's prefetched dataset, targets, the 5-step unroll, the
loss, the update and the priority write-back. TensorFlow's intra- and inter-op pools are limited
to `--threads`; without the flag the benchmark runs itself once per thread count in {1, 2}.
Tracing (the first steps) is excluded. Besides the rate, the learner process's CPU time per step
(all its threads: Reverb's readers too). `--replay=own_process` serves the table from another
process, as a replay node of its own would (every sampled item then crosses gRPC), and adds that
process's CPU time per step; `--replay=learner_process` (the default) is local_mp's layout
(`launch.node_common.ReplayWithLearner`).

  python -m bench.learner [--threads=N] [--steps=100] [--batch_size=256]
      [--replay=learner_process|own_process] [--json]
"""

import os
import subprocess
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position


REPLAY_LAYOUTS = ('learner_process', 'own_process')
_REPLAY_DESCRIPTIONS = {'learner_process': "replay in the learner's process",
                        'own_process': 'replay in a process of its own'}


def _process_cpu_s(pid: int) -> float:
  """User + system CPU seconds of process `pid`, all its threads."""
  with open(f'/proc/{pid}/stat') as file:
    fields = file.read().rsplit(')', 1)[1].split()
  return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def _serve_replay(tables_fn, ports, stop) -> None:
  """A replay process: serves `tables_fn()` until `stop` is set."""
  import reverb  # pylint: disable=g-import-not-at-top
  server = reverb.Server(tables_fn(), port=None)
  ports.put(server.port)
  stop.wait()
  os._exit(0)  # pylint: disable=protected-access


def measure_learner(config, environment_id: str, steps: int, warmup_steps: int = 3,
                    replay: str = 'learner_process') -> dict:
  """Learner steps per second of `config` (its batch size) on `environment_id` sequences.

  Fills the table with 4 batches' worth of steps (whole episodes) of a uniformly random policy,
  then times `steps` learner steps after `warmup_steps` untimed ones (tracing). `replay` is where
  the table lives, one of REPLAY_LAYOUTS.
  """
  if replay not in REPLAY_LAYOUTS:
    raise ValueError(f'replay={replay!r} is not allowed; allowed: {", ".join(REPLAY_LAYOUTS)}.')
  import functools  # pylint: disable=g-import-not-at-top
  import multiprocessing  # pylint: disable=g-import-not-at-top
  import dataclasses  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  import reverb  # pylint: disable=g-import-not-at-top
  from acme import specs  # pylint: disable=g-import-not-at-top
  from acme.utils import loggers  # pylint: disable=g-import-not-at-top
  from agents.muzero import builder as builder_lib  # pylint: disable=g-import-not-at-top
  from agents.muzero import learning  # pylint: disable=g-import-not-at-top
  from environments import make_environment  # pylint: disable=g-import-not-at-top

  batch_size = config.batch_size
  config = dataclasses.replace(config, min_replay_size=batch_size)
  environment = make_environment(environment_id, seed=0)
  spec = specs.make_environment_spec(environment)
  builder = builder_lib.MuZeroBuilder(config, spec)
  tables_fn = functools.partial(builder.make_replay_tables, single_process=True)
  if replay == 'learner_process':
    server, replay_pid = reverb.Server(tables_fn(), port=None), None
    port = server.port
  else:
    context = multiprocessing.get_context('spawn')
    ports, stop = context.Queue(), context.Event()
    server = context.Process(target=_serve_replay, args=(tables_fn, ports, stop), daemon=True)
    server.start()
    port, replay_pid = ports.get(timeout=120), server.pid
  address = f'localhost:{port}'
  client = reverb.Client(address)
  adder = builder.make_adder(client)
  rng = np.random.default_rng(0)
  inserted = 0
  while inserted < 4 * batch_size:
    inserted += harness.play_random_episode(environment, rng, adder)
  adder.close()

  learner = builder.make_learner(builder.make_network(), builder.make_dataset(address), client,
                                 logger=loggers.NoOpLogger())
  start = time.time()
  for _ in range(warmup_steps):
    learner.step()
  trace_s = time.time() - start
  start = time.time()
  learner_cpu, replay_cpu = _process_cpu_s(os.getpid()), replay_pid and _process_cpu_s(replay_pid)
  for _ in range(steps):
    learner.step()
  elapsed = time.time() - start
  learner_cpu = _process_cpu_s(os.getpid()) - learner_cpu
  replay_cpu = replay_pid and _process_cpu_s(replay_pid) - replay_cpu
  if replay_pid is None:
    server.stop()
  else:
    stop.set()
    server.join()
  return {'batch_size': batch_size, 'unroll_steps': config.unroll_steps, 'replay': replay,
          'learner_steps_per_second': steps / elapsed,
          'learner_process_cpu_ms_per_step': 1000 * learner_cpu / steps,
          'replay_process_cpu_ms_per_step': 1000 * replay_cpu / steps if replay_pid else None,
          'sequences_per_second': steps * batch_size / elapsed,
          'trace_s': trace_s, 'timed_steps': steps, 'device': learning.default_device()}


def measure(threads: int, steps: int, batch_size: int, replay: str = 'learner_process') -> dict:
  """Learner steps per second of the CartPole preset with TensorFlow limited to `threads` threads."""
  harness.limit_threads(threads)
  import dataclasses  # pylint: disable=g-import-not-at-top
  from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top
  config = dataclasses.replace(config_lib.cartpole(), batch_size=batch_size)
  return {'threads': threads, **measure_learner(config, 'gym:CartPole-v1', steps, replay=replay)}


def define_flags() -> None:
  """The command line of `python -m bench.learner`."""
  flags.DEFINE_integer('threads', None, 'TensorFlow threads; default: run once with 1 and once '
                       'with 2.', lower_bound=1)
  flags.DEFINE_integer('steps', 100, 'Timed learner steps.', lower_bound=1)
  flags.DEFINE_integer('batch_size', 256, 'Learner batch size.', lower_bound=1)
  flags.DEFINE_enum('replay', 'learner_process', REPLAY_LAYOUTS, 'Where the table lives: in the '
                    'learner\'s process (local_mp) or a process of its own (sampling over gRPC).')
  harness.define_json_flag(summary=False)


def main(args) -> None:
  if args.threads is None:
    print(f'command: {harness.command_line("bench.learner")}', file=sys.stderr)
    for threads in (1, 2):
      # A fresh process per thread count: TensorFlow fixes its pools when it starts.
      command = [sys.executable, '-m', 'bench.learner', f'--threads={threads}',
                 f'--steps={args.steps}', f'--batch_size={args.batch_size}',
                 f'--replay={args.replay}'] + (
                     ['--json'] if args.json else [])
      subprocess.run(command, check=True)
    return
  result = measure(args.threads, args.steps, args.batch_size, args.replay)
  harness.report(args.json, result, lambda: (
      f'threads={args.threads} batch={args.batch_size} K={result["unroll_steps"]}: '
      f'{_REPLAY_DESCRIPTIONS[args.replay]}: '
      f'{result["learner_steps_per_second"]:.1f} learner steps/s, learner process CPU '
      f'{result["learner_process_cpu_ms_per_step"]:.1f} ms/step'
      + ('' if result['replay_process_cpu_ms_per_step'] is None else
         f', replay process CPU {result["replay_process_cpu_ms_per_step"]:.1f} ms/step') + ' '
      f'({result["sequences_per_second"]:.0f} sequences/s, trace {result["trace_s"]:.1f} s, '
      f'{args.steps} timed steps on {result["device"]})'))


if __name__ == '__main__':
  harness.run(define_flags, main)
