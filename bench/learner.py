"""Benchmark of the MuZero learner: learner steps per second of a preset's learner, and its
first step (trace and, with XLA, compile).

Workload: the learner of a preset (`--config`: `agents.muzero.config.cartpole()` by default,
`continuous_control()` on Pendulum-v1, `board_game(GAME)` with `--env=openspiel:GAME`): its
network, targets (K, n, target network, consistency loss), optimizer and batch size
(`--batch_size` overrides it). The replay table is filled first with sequences of the preset's
environment from a uniformly random policy (uniform search policies, zero root values; continuous
actions: uniform over S uniform samples) written by the real replay writer, so the timed steps
include the whole learner path: Reverb sampling through Acme's prefetched dataset, targets, the
K-step unroll, the loss, the update and the priority write-back. TensorFlow's intra- and
inter-op pools are limited to `--threads`; without the flag the benchmark runs itself once per
thread count in {1, 2}. The first step (trace, XLA compile, first batch) is reported apart, in
wall and CPU seconds, and excluded with the other warm-up steps. Besides the rate, the learner
process's CPU time per step (all its threads: Reverb's readers too). `--learner_xla=both` makes
a learner with and one without XLA (`MuZeroConfig.learner_xla`) over the same table in one
process and times them in turns (`--rounds` blocks each), so that the machine's load weighs on
both alike, and prints their ratio. `--replay=own_process` serves the table from another
process, as a replay node of its own would (every sampled item then crosses gRPC), and adds that
process's CPU time per step; `--replay=learner_process` (the default) is local_mp's layout
(`launch.node_common.ReplayWithLearner`).

  OMP_NUM_THREADS=1 taskset -c 1 python -m bench.learner --threads=1 [--steps=100]
      [--config=cartpole|continuous_control|board_game] [--env=openspiel:connect_four]
      [--learner_xla=preset|off|on|both] [--rounds=5] [--batch_size=N]
      [--replay=learner_process|own_process] [--config_overrides=unroll_steps=3] [--json]
"""

import os
import subprocess
import sys
import time
from typing import List, Optional, Sequence

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position


REPLAY_LAYOUTS = ('learner_process', 'own_process')
PRESETS = ('cartpole', 'continuous_control', 'board_game')
DEFAULT_ENVIRONMENTS = {'cartpole': 'gym:CartPole-v1', 'continuous_control': 'gym:Pendulum-v1',
                        'board_game': 'openspiel:tic_tac_toe'}
# --learner_xla: the settings measured (None: the preset's own).
XLA_SETTINGS = {'preset': None, 'off': (False,), 'on': (True,), 'both': (False, True)}
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
                    replay: str = 'learner_process',
                    learner_xla: Optional[Sequence[bool]] = None, rounds: int = 1) -> List[dict]:
  """Learner steps per second of `config` (its batch size) on `environment_id` sequences, one
  result per `learner_xla` setting (default: the config's own), measured in one process.

  Fills the table with 4 batches' worth of steps (whole episodes) of a uniformly random policy,
  then makes one learner per setting (each with its own dataset over the table), times each
  one's first step (trace, XLA compile, first batch) and runs `warmup_steps` - 1 more untimed,
  then times `steps` steps of each in `rounds` blocks, the settings taking turns block by block
  (a shared machine's load then weighs on every setting alike). `replay` is where the table
  lives, one of REPLAY_LAYOUTS.
  """
  if replay not in REPLAY_LAYOUTS:
    raise ValueError(f'replay={replay!r} is not allowed; allowed: {", ".join(REPLAY_LAYOUTS)}.')
  if not 1 <= rounds <= steps:
    raise ValueError(f'rounds={rounds} is not allowed; allowed: 1 to steps={steps}.')
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

  learner_xla = (config.learner_xla,) if learner_xla is None else tuple(learner_xla)
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
    inserted += harness.play_random_episode(environment, rng, adder,
                                            num_sampled_actions=config.num_sampled_actions)
  adder.close()

  results = []
  for xla in learner_xla:
    setting_builder = builder_lib.MuZeroBuilder(dataclasses.replace(config, learner_xla=xla), spec)
    learner = setting_builder.make_learner(setting_builder.make_network(),
                                           setting_builder.make_dataset(address), client,
                                           logger=loggers.NoOpLogger())
    start, start_cpu = time.time(), _process_cpu_s(os.getpid())
    learner.step()
    first_step_s, first_step_cpu_s = time.time() - start, _process_cpu_s(os.getpid()) - start_cpu
    for _ in range(warmup_steps - 1):
      learner.step()
    results.append(dict(learner=learner, learner_xla=xla, first_step_s=first_step_s,
                        first_step_cpu_s=first_step_cpu_s, trace_s=time.time() - start,
                        elapsed=0.0, learner_cpu=0.0, replay_cpu=0.0))
  for block in range(rounds):
    block_steps = steps // rounds + (block < steps % rounds)
    for result in results:
      start, learner_cpu = time.time(), _process_cpu_s(os.getpid())
      replay_cpu = _process_cpu_s(replay_pid) if replay_pid else 0.0
      for _ in range(block_steps):
        result['learner'].step()
      result['elapsed'] += time.time() - start
      result['learner_cpu'] += _process_cpu_s(os.getpid()) - learner_cpu
      if replay_pid:
        result['replay_cpu'] += _process_cpu_s(replay_pid) - replay_cpu
  if replay_pid is None:
    server.stop()
  else:
    stop.set()
    server.join()
  return [{'batch_size': batch_size, 'unroll_steps': config.unroll_steps, 'replay': replay,
           'learner_xla': result['learner_xla'],
           'learner_steps_per_second': steps / result['elapsed'],
           'ms_per_step': 1000 * result['elapsed'] / steps,
           'learner_process_cpu_ms_per_step': 1000 * result['learner_cpu'] / steps,
           'replay_process_cpu_ms_per_step': (1000 * result['replay_cpu'] / steps if replay_pid
                                              else None),
           'sequences_per_second': steps * batch_size / result['elapsed'],
           'first_step_s': result['first_step_s'], 'first_step_cpu_s': result['first_step_cpu_s'],
           'trace_s': result['trace_s'], 'timed_steps': steps, 'rounds': rounds,
           'device': learning.default_device()} for result in results]


def preset(name: str, environment_id: Optional[str] = None):
  """(config, environment id) of the preset `name` (one of PRESETS, `config_lib.preset`) on
  `environment_id`, by default the preset's own environment (DEFAULT_ENVIRONMENTS)."""
  from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top
  if name not in PRESETS:
    raise ValueError(f'--config={name!r} is not allowed; allowed: {", ".join(PRESETS)}.')
  environment_id = environment_id or DEFAULT_ENVIRONMENTS[name]
  return config_lib.preset(name, environment_id), environment_id


def measure(threads: int, steps: int, batch_size: Optional[int], replay: str = 'learner_process',
            config_name: str = 'cartpole', environment_id: Optional[str] = None,
            learner_xla: Optional[Sequence[bool]] = None, rounds: int = 1,
            config_overrides: str = '') -> List[dict]:
  """`measure_learner` of a preset (`preset`) with TensorFlow limited to `threads` threads, at
  `batch_size` (None: the preset's), with the preset's fields `config_overrides` changed."""
  harness.limit_threads(threads)
  from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top
  config, environment_id = preset(config_name, environment_id)
  config = config_lib.with_overrides(config, config_overrides,
                                     batch_size=batch_size or config.batch_size)
  return [{'threads': threads, 'config': config_name, 'env': environment_id, **result}
          for result in measure_learner(config, environment_id, steps, replay=replay,
                                        learner_xla=learner_xla, rounds=rounds)]


def define_flags() -> None:
  """The command line of `python -m bench.learner`."""
  flags.DEFINE_integer('threads', None, 'TensorFlow threads; default: run once with 1 and once '
                       'with 2.', lower_bound=1)
  flags.DEFINE_integer('steps', 100, 'Timed learner steps.', lower_bound=1)
  flags.DEFINE_integer('batch_size', None, "Learner batch size (default: the preset's).",
                       lower_bound=1)
  flags.DEFINE_enum('replay', 'learner_process', REPLAY_LAYOUTS, 'Where the table lives: in the '
                    'learner\'s process (local_mp) or a process of its own (sampling over gRPC).')
  flags.DEFINE_enum('config', 'cartpole', PRESETS, 'Agent preset whose learner is measured.')
  flags.DEFINE_string('env', None, 'Environment id of the sequences (default: '
                      f'{DEFAULT_ENVIRONMENTS}); board_game takes openspiel:GAME.')
  flags.DEFINE_enum('learner_xla', 'preset', tuple(XLA_SETTINGS), 'The learner step with XLA '
                    '(MuZeroConfig.learner_xla): the preset\'s setting, off, on, or both in one '
                    'process, taking turns (--rounds).')
  flags.DEFINE_integer('rounds', 1, 'Timed blocks per setting; the settings take turns block by '
                       'block.', lower_bound=1)
  flags.DEFINE_string('config_overrides', '', "Fields of the --config preset to change, e.g. "
                      "'unroll_steps=3,network.channels=16' (config.with_overrides).")
  harness.define_json_flag(summary=False)


def _describe(result: dict) -> str:
  xla = 'on' if result['learner_xla'] else 'off'
  return (
      f'config={result["config"]} env={result["env"]} learner_xla={xla} '
      f'threads={result["threads"]} batch={result["batch_size"]} K={result["unroll_steps"]}: '
      f'{_REPLAY_DESCRIPTIONS[result["replay"]]}: '
      f'{result["learner_steps_per_second"]:.1f} learner steps/s '
      f'({result["ms_per_step"]:.1f} ms/step), learner process CPU '
      f'{result["learner_process_cpu_ms_per_step"]:.1f} ms/step'
      + ('' if result['replay_process_cpu_ms_per_step'] is None else
         f', replay process CPU {result["replay_process_cpu_ms_per_step"]:.1f} ms/step') + ' '
      f'({result["sequences_per_second"]:.0f} sequences/s, first step '
      f'{result["first_step_s"]:.1f} s / {result["first_step_cpu_s"]:.1f} s CPU, trace '
      f'{result["trace_s"]:.1f} s, {result["timed_steps"]} timed steps in {result["rounds"]} '
      f'blocks on {result["device"]})')


def main(args) -> None:
  if args.threads is None:
    print(f'command: {harness.command_line("bench.learner")}', file=sys.stderr)
    for threads in (1, 2):
      # A fresh process per thread count: TensorFlow fixes its pools when it starts.
      command = [sys.executable, '-m', 'bench.learner', f'--threads={threads}'] + [
          f'--{name}={getattr(args, name)}' for name in (
              'steps', 'batch_size', 'replay', 'config', 'env', 'learner_xla', 'rounds',
              'config_overrides')
          if getattr(args, name) is not None] + (['--json'] if args.json else [])
      subprocess.run(command, check=True)
    return
  print(f'command: {harness.command_line("bench.learner")}', file=sys.stderr)
  results = measure(args.threads, args.steps, args.batch_size, args.replay, args.config,
                    args.env, XLA_SETTINGS[args.learner_xla], args.rounds, args.config_overrides)
  for result in results:
    harness.report(args.json, result, lambda: _describe(result))  # pylint: disable=cell-var-from-loop
  if len(results) == 2 and not args.json:
    off, on = results
    print(f'learner_xla on / off: {on["ms_per_step"] / off["ms_per_step"]:.2f} x the time per '
          f'step, first step {on["first_step_s"] - off["first_step_s"]:+.1f} s')


if __name__ == '__main__':
  harness.run(define_flags, main)
