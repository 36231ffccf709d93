"""What the benchmarks share, so that each script keeps only what it measures.

Thread pools and the one-core check, the replay filled by a uniformly random policy, the
single-process train-and-evaluate loop of the learning benchmarks, and running `launch.local`
while following its status.json. Command lines are absl flags, as in `launch/`; a script defines
them in its `define_flags()` and runs with `run(define_flags, main)`, so that importing a script
(tests, other benchmarks) defines none and two scripts may share a flag name. The flags several
scripts take with one meaning are defined here (`define_json_flag`, `define_opponent_flags`).
"""

import json
import os
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

# Imported here, before a script's `app.run` parses the flags: with TensorFlow 2.8.4 first
# imported after that parse, a learner step (a `tf.cond` inside `tf.function`) failed with "Op
# type not registered 'cond_true_N'" under one intra-op thread (bench.learner --threads=1).
# Importing TensorFlow starts nothing, so `limit_threads` still applies afterwards.
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-order

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATUS_POLL_S = 2.0
# How the one-core figures in BENCHMARKS.md were taken.
PINNED_PYTHON = 'OMP_NUM_THREADS=1 taskset -c 1 python'


def command_line(module: str, pinned: bool = False) -> str:
  """The command that ran this benchmark (`pinned`: as one-core figures are taken), to print
  with its figures."""
  return f'{PINNED_PYTHON if pinned else "python"} -m {module} {" ".join(sys.argv[1:])}'.rstrip()


def run(define_flags: Callable[[], None], main: Callable[[Any], None]) -> None:
  """Runs a benchmark from its command line: defines its flags (`define_flags()`, which may call
  this module's `define_*_flags`), parses them with absl and calls `main(flags.FLAGS)`.

  The flags defined here are listed in the script's --help with its own. Positional arguments
  are refused, since every setting is a flag (`python -m bench.actor 16` would otherwise run
  the default batch sizes), and what `main` returns is not the exit status (absl's `app.run`
  would exit 1 on any object).
  """
  from absl import app  # pylint: disable=g-import-not-at-top
  from absl import flags  # pylint: disable=g-import-not-at-top
  define_flags()
  for flag in flags.FLAGS.get_key_flags_for_module(__name__):
    # As `flags.adopt_module_key_flags` would from the script (absl names `__main__` by argv[0]).
    flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)

  def main_with_flags(argv: List[str]) -> None:
    if len(argv) > 1:
      raise app.UsageError(f'unexpected arguments {argv[1:]}; allowed: flags only '
                           '(--name=value, see --help).')
    main(flags.FLAGS)

  app.run(main_with_flags)


def define_json_flag(summary: bool) -> None:
  """--json: the script's last stdout line is a JSON summary (`summary`), or every measurement
  is one JSON line on stdout and nothing else is (`report`)."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  flags.DEFINE_bool('json', False, 'Make the last stdout line a JSON summary.' if summary
                    else 'One JSON object per line on stdout.')


def define_learning_flags(preset: str, overrides_example: str, time_budget_s: float,
                          hold_s: float, output_dir: str) -> None:
  """The flags of a learning benchmark run by `bench.learn_cartpole.learn_single_process` (and
  the summary it prints): --time_budget_s, --seed, --json, --num_envs, --eval_every_s, --hold_s,
  --output_dir (default described as `output_dir`) and --config_overrides of `preset`, the
  preset function's name (e.g. 'cartpole'), with `overrides_example`."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  flags.DEFINE_float('time_budget_s', time_budget_s, 'Seconds of the whole run, evaluations '
                     'included.')
  flags.DEFINE_integer('seed', 0, 'Seeds the environments, the network and the search.')
  define_json_flag(summary=True)
  flags.DEFINE_integer('num_envs', None, "Environments per actor (default: the config's "
                       'envs_per_actor).', lower_bound=1)
  flags.DEFINE_float('eval_every_s', 60.0, 'Seconds of training between two evaluations.')
  flags.DEFINE_float('hold_s', hold_s, 'Seconds of training after the first solve, to see '
                     'whether it holds.')
  flags.DEFINE_string('output_dir', None, f'Default: {output_dir}.')
  define_config_overrides_flag(preset, overrides_example)


def define_config_overrides_flag(preset: str, overrides_example: str, note: str = '') -> None:
  """--config_overrides: fields of the `preset` preset function (e.g. 'cartpole') to change,
  with `overrides_example`; `note` ends the help text."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  flags.DEFINE_string('config_overrides', '', f'Fields of the {preset}() preset to change, e.g. '
                      f"'{overrides_example}' (agents.muzero.config.with_overrides{note}).")


def pin_to_cpu(cpu: int) -> None:
  """Pins every thread of this process to `cpu`, and so the threads it starts later.

  Every thread: importing TensorFlow, which this module does before the flags are parsed,
  already starts threads, and an affinity set for the calling thread alone would leave them on
  every core (measured: 2 of 5 threads after the first op).

  Raises:
    ValueError: `cpu` is not one this process may run on (the message names those).
  """
  allowed = sorted(os.sched_getaffinity(0))
  if cpu not in allowed:
    raise ValueError(f'--cpu={cpu} is not allowed; allowed: one of the CPUs this process may '
                     f'run on, {allowed}.')
  for thread in os.listdir('/proc/self/task'):
    try:
      os.sched_setaffinity(int(thread), {cpu})
    except ProcessLookupError:
      pass  # The thread ended meanwhile.


def define_cpu_flag() -> None:
  """--cpu, for the scripts that pin themselves to one core (`use_one_core`)."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  flags.DEFINE_integer('cpu', 1, 'The one CPU the process is pinned to, like taskset -c.')


def use_one_core(cpu: int) -> None:
  """Runs the rest of this process on CPU `cpu` (`pin_to_cpu`) with one TensorFlow thread per
  pool, and sets OMP_NUM_THREADS=1 for the libraries and subprocesses it starts later.

  Raises:
    app.UsageError: naming --cpu, when `cpu` is not one this process may run on.
  """
  from absl import app  # pylint: disable=g-import-not-at-top
  os.environ['OMP_NUM_THREADS'] = '1'
  try:
    pin_to_cpu(cpu)
  except ValueError as error:
    raise app.UsageError(str(error)) from error
  limit_threads(1)


def define_opponent_flags() -> None:
  """--game, --opponent and --mcts_simulations, for the scripts that play a board game against
  a fixed player (`environments.opponents`)."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  from environments import opponents  # pylint: disable=g-import-not-at-top
  flags.DEFINE_string('game', 'tic_tac_toe', 'OpenSpiel game name.')
  flags.DEFINE_enum('opponent', 'minimax', opponents.OPPONENTS, 'The fixed player to play against.')
  flags.DEFINE_integer('mcts_simulations', 1000, 'Simulations per move of the mcts opponent.',
                       lower_bound=1)


def limit_threads(threads: int) -> None:
  """Sizes TensorFlow's intra- and inter-op pools; must run before TensorFlow's first op."""
  tf.config.threading.set_intra_op_parallelism_threads(threads)
  tf.config.threading.set_inter_op_parallelism_threads(threads)


def warn_unless_pinned(module: str) -> List[int]:
  """Warns on stderr unless the process runs on one core with OMP_NUM_THREADS=1, as the figures
  of `module` in BENCHMARKS.md were taken; returns the cores it may run on."""
  cores = sorted(os.sched_getaffinity(0))
  if len(cores) != 1 or os.environ.get('OMP_NUM_THREADS') != '1':
    print(f'warning: not pinned to one core (cores {cores}, OMP_NUM_THREADS='
          f'{os.environ.get("OMP_NUM_THREADS")}); run: {PINNED_PYTHON} -m {module}',
          file=sys.stderr)
  return cores


def report(as_json: bool, result: Dict[str, Any], describe: Callable[[], str]) -> None:
  """Prints one measurement: `result` as one JSON line (--json), or the line `describe()` makes."""
  print(json.dumps(result) if as_json else describe(), flush=True)


def play_random_episode(environment, rng, adder=None,
                        on_decision: Optional[Callable[[Any], None]] = None,
                        num_sampled_actions: Optional[int] = None) -> int:
  """Plays one episode of uniformly random legal actions; returns its number of actions.

  With an adder, the episode goes to the replay as an actor writes it, with a uniform search
  policy over the legal actions and a zero root value. `on_decision(timestep)` sees every
  timestep an action is chosen at. Legal actions are an observation's legal-action mask
  (`environments.specs.legal_actions`: board games), else every action. Continuous actions
  (a bounded spec) need `num_sampled_actions`, S: each step draws S canonical actions uniformly
  in [-1, 1]^D, the search policy is uniform over them and one of them is played, as Sampled
  MuZero's actor writes its items.
  """
  import numpy as np  # pylint: disable=g-import-not-at-top
  from agents.muzero import canonical  # pylint: disable=g-import-not-at-top
  from environments import specs as environment_specs  # pylint: disable=g-import-not-at-top
  action_spec = environment.action_spec()
  continuous = canonical.is_continuous(action_spec)
  if continuous and num_sampled_actions is None:
    raise ValueError(f'play_random_episode: continuous actions ({action_spec}) need '
                     'num_sampled_actions, the number of actions a search samples.')
  timestep = environment.reset()
  if adder is not None:
    adder.add_first(timestep)
  steps = 0
  while not timestep.last():
    if on_decision is not None:
      on_decision(timestep)
    if continuous:
      sampled = rng.uniform(-1.0, 1.0, (num_sampled_actions,) + action_spec.shape)
      action = sampled[rng.integers(num_sampled_actions)].astype(np.float32)
      extras = {'search_policy': np.full(num_sampled_actions, 1.0 / num_sampled_actions),
                'sampled_actions': sampled.astype(np.float32)}
      timestep = environment.step(canonical.environment_actions(action, action_spec))
    else:
      mask = environment_specs.legal_actions(timestep.observation)
      legal = np.flatnonzero(mask) if mask is not None else np.arange(action_spec.num_values)
      action = np.int32(rng.choice(legal))
      policy = np.zeros(action_spec.num_values, np.float32)
      policy[legal] = 1.0 / len(legal)
      extras = {'search_policy': policy}
      timestep = environment.step(action)
    steps += 1
    if adder is not None:
      adder.add(action, timestep, dict(extras, root_value=np.float32(0.0)))
  return steps


def make_self_play(environment_id: str, config, num_environments: int, num_eval_environments: int,
                   seed: int, output_dir: str, checkpoint: bool = False):
  """(agent, loop, evaluator) of the single-process agent (`agents.muzero.agent.MuZero`) on
  `num_environments` environments in lock-step, logging under `output_dir` (and checkpointing
  its learner to OUTPUT_DIR/learner when `checkpoint`); the evaluator is its greedy copy."""
  from acme import specs  # pylint: disable=g-import-not-at-top
  from agents.muzero import actor as actor_lib  # pylint: disable=g-import-not-at-top
  from agents.muzero import agent as agent_lib  # pylint: disable=g-import-not-at-top
  from agents.muzero import loggers as loggers_lib  # pylint: disable=g-import-not-at-top
  from environments import make_environment  # pylint: disable=g-import-not-at-top
  tf.random.set_seed(seed)
  environments = [make_environment(environment_id, seed=seed * 1000 + index)
                  for index in range(num_environments)]
  agent = agent_lib.MuZero(
      specs.make_environment_spec(environments[0]), config, num_environments=num_environments,
      seed=seed, checkpoint_directory=os.path.join(output_dir, 'learner') if checkpoint else None,
      learner_logger=loggers_lib.make_logger('learner', output_dir, 'learner_steps',
                                             time_delta=30.0))
  loop = actor_lib.BatchedEnvironmentLoop(
      environments, agent, logger=loggers_lib.make_logger('actor', output_dir, 'steps',
                                                          time_delta=30.0))
  return agent, loop, agent.make_evaluator(num_environments=num_eval_environments, seed=seed)


def train_and_evaluate(agent, loop, evaluate: Callable[[], Dict[str, Any]], eval_every_s: float,
                       time_budget_s: float,
                       stop: Callable[[List[Dict[str, Any]]], bool] = lambda rows: False
                       ) -> List[Dict[str, Any]]:
  """Trains `eval_every_s` seconds at a time, calling `evaluate()` after each, until
  `time_budget_s` is spent or `stop(rows)`; returns one row per evaluation (also printed):
  wall_s (evaluations included), env_steps, learner_steps and what `evaluate` returned."""
  start = time.time()
  rows = []
  while time.time() - start < time_budget_s and not (rows and stop(rows)):
    loop.run(max_seconds=min(eval_every_s, time_budget_s - (time.time() - start)))
    rows.append({'wall_s': round(time.time() - start, 1), 'env_steps': agent.num_observations,
                 'learner_steps': agent.learner_steps, **evaluate()})
    print(f'[eval] {json.dumps(rows[-1])}', flush=True)
  return rows


def run_launcher(launch_flags: Sequence[str], run_dir: str, on_status: Callable[[Any], None]):
  """Runs `python -m launch.local` with `launch_flags` and `--run_dir`, calls `on_status` with
  RUN_DIR/status.json's `Status` every 2 s once it exists, and returns the last status."""
  from launch import monitor as monitor_lib  # pylint: disable=g-import-not-at-top
  from launch import status as status_lib  # pylint: disable=g-import-not-at-top
  process = subprocess.Popen(
      [sys.executable, '-m', 'launch.local', f'--run_dir={run_dir}', *launch_flags], cwd=ROOT,
      stdout=subprocess.DEVNULL, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  path = os.path.join(run_dir, monitor_lib.STATUS_FILE)
  while process.poll() is None:
    time.sleep(STATUS_POLL_S)
    if os.path.exists(path):
      on_status(status_lib.read_status(path))
  if not os.path.exists(path):
    raise RuntimeError(f'launch.local exited with {process.returncode} before writing {path}; '
                       f'see its logs in {run_dir}.')
  return status_lib.read_status(path)
