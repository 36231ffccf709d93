"""Runs distributed MuZero on this machine (or, with --launch_type=vertex_ai, on a cloud cluster).

    python -m launch.local --env=gym:CartPole-v1 --num_actors=2 --max_learner_steps=5000
    python -m launch.local --run_dir=runs/cartpole --resume      # continue a stopped run
    python -m launch.local --env=python:my_project.envs:make_maze --max_seconds=600  # your own

Flags are checked before any process starts. While the run goes on, one line of progress is
refreshed here; every node's log is under RUN_DIR/logs, TensorBoard events under
RUN_DIR/tensorboard, and RUN_DIR/status.json follows the run for scripts. At the end the
learning curve (evaluation return against environment steps) is saved as
RUN_DIR/learning_curve.png.
"""

import faulthandler
import os
import sys
import time
from typing import Any, Optional

import launchpad as lp
from absl import app
from absl import flags
from acme import specs

from agents.muzero import arena
from agents.muzero import canonical
from agents.muzero import config as config_lib
from agents.muzero import symmetries
from environments import opponents
from environments import specs as environment_specs
from launch import counter_node
from launch import curves
from launch import monitor as monitor_lib
from launch import pinned_stack
from launch import private_network
from launch import program as program_lib
from launch import resources
from launch import run_record
from launch import status as status_lib

# Seconds after the stop begins at which the launcher prints its threads' stacks if still waiting.
STOP_DIAGNOSIS_AFTER_S = 15
LAUNCH_TYPES = ('local_mp', 'local_mt', 'test_mt', 'vertex_ai')
# Launches whose nodes all run on this machine; they get a loopback-only network namespace.
LOCAL_LAUNCH_TYPES = ('local_mp', 'local_mt', 'test_mt')
# Launches whose replay runs in the learner's process (`RunSettings.replay_with_learner`): local_mp
# (the other local ones run every node in one process anyway; vertex_ai gives each its machine).
REPLAY_WITH_LEARNER_LAUNCH_TYPES = ('local_mp',)
# The share of the batch reanalyzers get when asked for under a preset without reanalysis.
DEFAULT_REANALYZE_FRACTION = 0.5

_ENV = flags.DEFINE_string('env', 'gym:CartPole-v1', 'Environment id (gym:..., atari:..., openspiel:..., or '
                           'python:package.module:factory for your own factory(seed) -> dm_env.Environment).')
_CONFIG = flags.DEFINE_string('config', 'auto', f'Agent preset, one of {config_lib.PRESETS}; auto picks by --env.')
_ATARI_SIZE = flags.DEFINE_string('atari_size', None, f'Size of the atari preset, one of '
                                  f'{config_lib.ATARI_SIZES} (default: {config_lib.ATARI_SIZES[0]}).')
_NUM_ACTORS = flags.DEFINE_integer('num_actors', os.cpu_count() or 1, 'Actor nodes (default: cores).')
_LEARNER_THREADS = flags.DEFINE_integer(
    'learner_threads', None, 'TensorFlow threads of the learner; 0 keeps TensorFlow\'s default (one '
    'per core). Default: 1 for local launches (the learner shares the cores with every other node), '
    'TensorFlow\'s default on vertex_ai (the learner has a machine of its own).')
_NUM_REANALYZERS = flags.DEFINE_integer(
    'num_reanalyzers', 0, 'Reanalyzer nodes (MuZero Reanalyze): they search stored items again '
    'with the latest weights, and the learner takes --reanalyze_fraction of every batch from them.')
_REANALYZE_FRACTION = flags.DEFINE_float(
    'reanalyze_fraction', None, f'Share of every learner batch from reanalysed items (default: '
    f'the preset\'s, or {DEFAULT_REANALYZE_FRACTION} when --num_reanalyzers > 0 and the preset has none).')
_ENVS_PER_ACTOR = flags.DEFINE_integer('envs_per_actor', None, 'Environments per actor (default: preset).')
_NUM_SIMULATIONS = flags.DEFINE_integer('num_simulations', None, 'Search simulations per move (default: preset).')
_MAX_LEARNER_STEPS = flags.DEFINE_integer('max_learner_steps', None, 'Stop after this many learner steps.')
_MAX_ENV_STEPS = flags.DEFINE_integer('max_env_steps', None, 'Stop after this many environment steps.')
_MAX_SECONDS = flags.DEFINE_float('max_seconds', None, 'Stop after this many seconds.')
_TARGET_EVAL_RETURN = flags.DEFINE_float('target_eval_return', None, 'Stop once the greedy evaluation return reaches this '
                                          '(--hold_s seconds later).')
_HOLD_S = flags.DEFINE_float('hold_s', 0.0, 'Seconds the run goes on once --target_eval_return is reached, to show whether '
                             'every evaluation stays there ("held" in status.json); 0 stops at once.')
_RUN_DIR = flags.DEFINE_string('run_dir', None, 'Run directory (default: runs/<env>-<time>).')
_RESUME = flags.DEFINE_bool('resume', False, 'Continue the run in --run_dir from its checkpoints.')
_LAUNCH_TYPE = flags.DEFINE_string('launch_type', 'local_mp', f'One of {LAUNCH_TYPES}.')
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of environments and search noise.')
_EVAL_EPISODES = flags.DEFINE_integer('eval_episodes', 10, 'Greedy episodes per evaluation.')
_EVAL_PERIOD_S = flags.DEFINE_float('eval_period_s', 20.0, 'Seconds between evaluations.')
_EVAL_OPPONENT = flags.DEFINE_enum(
    'eval_opponent', 'random', opponents.OPPONENTS, 'Board games: who the evaluator plays (half '
    'the games first, half second); the evaluation return is the mean score, and against minimax, '
    'which never loses, 0 means unbeaten. Single-player environments: random only.')
_LEARNER_CHECKPOINT_PERIOD_S = flags.DEFINE_float(
    'learner_checkpoint_period_s', 300.0, 'Seconds between periodic checkpoints of the learner '
    '(with the counter); after a hard kill, --resume loses at most the learner steps of one period.')
_REPLAY_CHECKPOINT_PERIOD_S = flags.DEFINE_float(
    'replay_checkpoint_period_s', 300.0, 'Seconds between periodic checkpoints of the replay (with '
    'the counter); after a hard kill, --resume loses at most the items inserted in one period.')
_CONFIG_OVERRIDES = flags.DEFINE_string(
    'config_overrides', '', "Preset fields to change, e.g. 'td_steps=10,num_simulations=8' (search "
    "fields as <name> or search.<name>, network fields as network.<name>; "
    "agents.muzero.config.with_overrides); applied after --envs_per_actor and --num_simulations.")
_PRIVATE_NETWORK = flags.DEFINE_bool(
    'private_network', True, 'Run local launches in a network namespace of their own whose only '
    'interface is loopback, so that no server of the run is reachable from elsewhere (see '
    'launch/private_network.py); false runs on the host network, every server listening on all '
    'interfaces.')


class FlagError(ValueError):
  """A flag whose value cannot work; raised before anything is launched."""


def make_config(preset: str, environment_id: str, atari_size: Optional[str] = None,
                continuous_actions: bool = False, two_player: bool = False
                ) -> config_lib.MuZeroConfig:
  """The agent preset for --config and --env (`config_lib.preset`); bad flags raise FlagError."""
  try:
    return config_lib.preset(preset, environment_id, atari_size, continuous_actions, two_player)
  except ValueError as error:
    raise FlagError(str(error)) from error


def _with_reanalyze_fraction(config: config_lib.MuZeroConfig) -> config_lib.MuZeroConfig:
  """The config with --reanalyze_fraction applied and checked against --num_reanalyzers."""
  fraction = _REANALYZE_FRACTION.value
  if fraction is None and _NUM_REANALYZERS.value > 0 and not config.reanalyze:
    fraction = DEFAULT_REANALYZE_FRACTION
  if fraction is not None:
    try:
      config = config_lib.with_overrides(config, f'reanalyze_fraction={fraction!r}')
    except ValueError as error:
      raise FlagError(f'--reanalyze_fraction: {error}') from error
  if config.reanalyze and _NUM_REANALYZERS.value == 0:
    raise FlagError(f'reanalyze_fraction={config.reanalyze_fraction:g} takes that share of every '
                    'batch from reanalyzers: give --num_reanalyzers >= 1, or '
                    '--reanalyze_fraction=0.')
  if not config.reanalyze and _NUM_REANALYZERS.value > 0:
    raise FlagError(f'--num_reanalyzers={_NUM_REANALYZERS.value} with --reanalyze_fraction=0: '
                    'the learner would not use what they make.')
  return config


def _learner_threads(launch_type: str) -> Optional[int]:
  """--learner_threads as `RunSettings.learner_threads` (None: TensorFlow's default)."""
  if _LEARNER_THREADS.value is None:
    return 1 if launch_type in LOCAL_LAUNCH_TYPES else None
  return _LEARNER_THREADS.value or None


def _has_checkpoint(run_dir: str) -> bool:
  return any(os.path.exists(os.path.join(run_dir, name))
             for name in ('learner', 'replay', counter_node.COUNTER_FILE))


def _describe(name: str, value) -> str:
  """'td_steps=10' (the environment as its flag), or 'no td_steps' for a field one side lacks."""
  return f'no {name}' if value is run_record.MISSING else f'{name}={value!r}'


def check_resumed_run(run_dir: str, environment_id: str, config: config_lib.MuZeroConfig) -> None:
  """Refuses to resume a run directory made with another environment or config.

  A directory without a record (made before run.json existed) resumes with a printed warning,
  since nothing can be compared. See `launch.run_record` for what may change on resume.

  Raises:
    FlagError: naming each differing field with its recorded value and this run's.
  """
  try:
    record = run_record.read(run_dir)
  except ValueError as error:
    raise FlagError(f'--resume: {error}') from error
  if record is None:
    # A local launch passes here twice (`launch.private_network` re-executes it): warn once.
    if not os.environ.get(private_network.ENTERED):
      print(f'warning: --resume: {os.path.join(run_dir, run_record.RUN_FILE)} does not exist '
            '(a run made before runs were recorded), so its environment and config cannot be '
            'checked against this run\'s; resuming as asked.', file=sys.stderr, flush=True)
    return
  found = run_record.differences(record, environment_id, config)
  if found:
    mismatches = '; with '.join(
        f'{_describe(difference.name, difference.recorded)}, this run has '
        f'{_describe(difference.name, difference.current)}' for difference in found)
    raise FlagError(
        f'--resume: --run_dir={run_dir!r} was made with {mismatches}. A resumed run may change '
        f'only {", ".join(run_record.RESUMABLE_FIELDS)} (and flags that are not config, such as '
        'the stopping rule); give the --env, --config and --config_overrides it was made with, or '
        'choose another --run_dir.')


def check_eval_opponent(opponent: str, environment_id: str, game: Optional[Any]):
  """Raises FlagError unless the evaluator can play `opponent` in `game` (None: a single-player
  environment); made here (minimax solves its game, quickly for the games it takes) so that a bad
  one stops the launch."""
  if opponent == 'random':
    return
  if game is None:
    raise FlagError(f'--eval_opponent={opponent!r} applies to two-player board games only; '
                    f'--env={environment_id!r} is not one; allowed here: random.')
  try:
    opponents.make_opponent(opponent, game)
  except ValueError as error:
    raise FlagError(f'--eval_opponent={opponent!r}: {error}') from error


def check_board_symmetries(config: config_lib.MuZeroConfig, agent_spec: specs.EnvironmentSpec,
                           game: Optional[Any]):
  """Raises FlagError unless `config.board_symmetries` fit the environment's spec and, for a
  pyspiel game, its moves follow its planes (`symmetries.check_game`): wrong symmetries would
  train on positions the game never has, without any error."""
  try:
    group = symmetries.from_spec(config.board_symmetries, agent_spec)
    if group is not None and game is not None:
      symmetries.check_game(group, game)
  except ValueError as error:
    raise FlagError(f'--env={_ENV.value!r}: {error}') from error


def settings_from_flags():
  """(config, environment factory, RunSettings, launch type) from the flags, all checked.

  With --resume the run directory's record (`launch.run_record`) must agree with the flags; a
  fresh run's record is written here, once every check has passed.
  """
  launch_type = _LAUNCH_TYPE.value
  if launch_type not in LAUNCH_TYPES:
    raise FlagError(f'--launch_type={launch_type!r} is not allowed; allowed: {", ".join(LAUNCH_TYPES)}.')
  if _LEARNER_THREADS.value is not None and _LEARNER_THREADS.value < 0:
    raise FlagError(f'--learner_threads={_LEARNER_THREADS.value} is not allowed; it must be >= 0.')
  if _NUM_REANALYZERS.value < 0:
    raise FlagError(f'--num_reanalyzers={_NUM_REANALYZERS.value} is not allowed; it must be >= 0.')
  for flag in (_NUM_ACTORS, _ENVS_PER_ACTOR, _NUM_SIMULATIONS, _MAX_LEARNER_STEPS, _MAX_ENV_STEPS,
               _EVAL_EPISODES):
    if flag.value is not None and flag.value < 1:
      raise FlagError(f'--{flag.name}={flag.value} is not allowed; it must be >= 1.')
  for flag in (_MAX_SECONDS, _EVAL_PERIOD_S, _LEARNER_CHECKPOINT_PERIOD_S, _REPLAY_CHECKPOINT_PERIOD_S):
    if flag.value is not None and flag.value <= 0:
      raise FlagError(f'--{flag.name}={flag.value} is not allowed; it must be > 0.')
  if _HOLD_S.value < 0:
    raise FlagError(f'--hold_s={_HOLD_S.value} is not allowed; it must be >= 0.')
  if _HOLD_S.value > 0 and _TARGET_EVAL_RETURN.value is None:
    raise FlagError(f'--hold_s={_HOLD_S.value:g} applies only with --target_eval_return.')
  rule = monitor_lib.StoppingRule(_MAX_LEARNER_STEPS.value, _MAX_ENV_STEPS.value, _MAX_SECONDS.value,
                                  _TARGET_EVAL_RETURN.value, _HOLD_S.value)
  if launch_type != 'vertex_ai' and rule == monitor_lib.StoppingRule():
    raise FlagError('no stopping rule: give --max_learner_steps, --max_env_steps, --max_seconds or '
                    '--target_eval_return (or stop the run with Ctrl-C).')
  factory = program_lib.EnvironmentFactory(_ENV.value)
  try:
    environment = factory(_SEED.value)
    # The spec the agent would use, made here so that one it cannot take stops the launch.
    agent_spec = canonical.canonical_spec(specs.make_environment_spec(environment))
    two_player = environment_specs.is_two_player(agent_spec.observations)
    # The evaluator's matches need the pyspiel game.
    game = arena.game_of(environment) if two_player else None
    environment.close()
  except (ValueError, TypeError) as error:
    raise FlagError(f'--env={_ENV.value!r}: {error}') from error
  continuous_actions = canonical.is_continuous(agent_spec.actions)
  config = make_config(_CONFIG.value, _ENV.value, _ATARI_SIZE.value, continuous_actions,
                       two_player)
  flag_values = {'envs_per_actor': _ENVS_PER_ACTOR.value, 'num_simulations': _NUM_SIMULATIONS.value}
  config = config_lib.with_overrides(
      config, **{name: value for name, value in flag_values.items() if value is not None})
  try:
    config = config_lib.with_overrides(config, _CONFIG_OVERRIDES.value)
  except ValueError as error:
    raise FlagError(f'--config_overrides: {error}' if _CONFIG_OVERRIDES.value else str(error)) from error
  config = _with_reanalyze_fraction(config)
  check_board_symmetries(config, agent_spec, game)
  check_eval_opponent(_EVAL_OPPONENT.value, _ENV.value, game)
  run_dir = _RUN_DIR.value or os.path.join(
      'runs', f'{_ENV.value.replace(":", "-").replace("/", "-")}-{time.strftime("%Y%m%d-%H%M%S")}')
  if _RESUME.value and not _has_checkpoint(run_dir):
    raise FlagError(f'--resume: --run_dir={run_dir!r} holds no checkpoint to resume from.')
  if not _RESUME.value and _has_checkpoint(run_dir):
    raise FlagError(f'--run_dir={run_dir!r} already holds a run; pass --resume to continue it or '
                    'choose another directory.')
  if _RESUME.value:
    check_resumed_run(run_dir, _ENV.value, config)
  settings = program_lib.RunSettings(
      run_dir=run_dir, num_actors=_NUM_ACTORS.value, num_reanalyzers=_NUM_REANALYZERS.value,
      resume=_RESUME.value, seed=_SEED.value,
      stopping_rule=rule, eval_episodes=_EVAL_EPISODES.value, eval_period_s=_EVAL_PERIOD_S.value,
      eval_opponent=_EVAL_OPPONENT.value,
      learner_checkpoint_period_s=_LEARNER_CHECKPOINT_PERIOD_S.value,
      replay_checkpoint_period_s=_REPLAY_CHECKPOINT_PERIOD_S.value,
      learner_threads=_learner_threads(launch_type),
      replay_with_learner=launch_type in REPLAY_WITH_LEARNER_LAUNCH_TYPES)
  if not _RESUME.value:
    run_record.write(run_dir, _ENV.value, config)
  return config, factory, settings, launch_type


def follow(manager, status_path: str, interactive: bool) -> status_lib.Status:
  """Shows the progress line until the program stops; returns the last status."""
  last_line = ''
  while not manager.wait_for_stop(2.0):
    if not os.path.exists(status_path):
      continue
    status = status_lib.read_status(status_path)
    line = status_lib.progress_line(status)
    if interactive:
      print('\r' + line.ljust(len(last_line)), end='', flush=True)
    elif line != last_line:
      print(line, flush=True)
    last_line = line
    if status.state != 'running':
      break
  # If some node does not stop, show where every thread of this process is, to say why.
  faulthandler.dump_traceback_later(STOP_DIAGNOSIS_AFTER_S, exit=False)
  manager.wait(raise_error=False)
  faulthandler.cancel_dump_traceback_later()
  if interactive:
    print()
  return status_lib.read_status(status_path)


def save_learning_curve(run_dir: str, settings: program_lib.RunSettings, description: str) -> str:
  """RUN_DIR/learning_curve.png from the monitor's CSV of evaluations; returns its path."""
  return curves.save_curve(
      curves.read_rows(monitor_lib.curve_csv_path(run_dir)), run_dir, 'evaluation_return',
      f'evaluation return (mean of {settings.eval_episodes})', f'MuZero on {description}',
      target=settings.stopping_rule.target_eval_return)


def run(config: config_lib.MuZeroConfig, environment_factory, settings: program_lib.RunSettings,
        launch_type: str, description: str) -> status_lib.Status:
  """Launches the program, shows its progress until it stops, saves the learning curve, and
  returns the last status.

  A local launch first moves this process into a loopback-only network namespace (see
  `launch.private_network`): the process is executed again there, from the start, with the same
  command line, and arrives back here.
  """
  if launch_type in LOCAL_LAUNCH_TYPES and _PRIVATE_NETWORK.value:
    # Re-executes this process in the namespace unless it is there already (then returns).
    private_network.ensure(opt_out_flag='--noprivate_network')
  run_dir = os.path.abspath(settings.run_dir)
  status_path = os.path.join(run_dir, monitor_lib.STATUS_FILE)
  if os.path.exists(status_path):
    # A resumed run's status.json is the previous launch's (maybe 'failed'); the monitor writes
    # this launch's soon, and until then the progress line must not show the old one.
    os.remove(status_path)
  program = program_lib.make_program(config, environment_factory, settings)
  pinned_stack.send_process_logs_to(os.path.join(run_dir, 'logs', 'processes'))
  reanalyzers = (f', {settings.num_reanalyzers} reanalyzers ({config.reanalyze_fraction:g} of '
                 'every batch)' if settings.num_reanalyzers else '')
  print(f'MuZero on {description}: {settings.num_actors} actors x {config.envs_per_actor} '
        f'environments{reanalyzers}, {config.search.num_simulations} simulations, run_dir '
        f'{run_dir} ({launch_type})', flush=True)
  manager = lp.launch(program, launch_type=launch_type,
                      local_resources=resources.local_resources() if launch_type == 'local_mp' else None,
                      terminal='output_to_files' if launch_type == 'local_mp' else None)
  if launch_type == 'local_mp':
    pinned_stack.keep_launcher_when_killing(manager)
  status = follow(manager, status_path, sys.stdout.isatty())
  print(f'run {status.state}: {status.reason}')
  target = ('' if settings.stopping_rule.target_eval_return is None
            else f'; {status_lib.target_summary(status)}')
  print(f'summary: {status.learner_steps:,} learner steps, {status.env_steps:,} env steps in '
        f'{status.wall_s:.0f} s; last evaluation return {status.last_eval_return}{target}; replay '
        f'{status.replay_size:,} items; actor restarts {status.actor_restarts}; status in '
        f'{os.path.join(run_dir, monitor_lib.STATUS_FILE)}; learning curve in '
        f'{save_learning_curve(run_dir, settings, description)}', flush=True)
  return status


def exit_now(status: status_lib.Status) -> None:
  """Exits with 0 (finished) or 1 (failed), skipping interpreter teardown.

  Everything is saved by then, and threaded launches host the learner and its Reverb readers in
  this process (`launch.pinned_stack.exit_without_teardown`).
  """
  pinned_stack.exit_without_teardown(1 if status.state == 'failed' else 0)


def main(argv):
  del argv
  try:
    config, factory, settings, launch_type = settings_from_flags()
  except FlagError as error:
    sys.exit(f'error: {error}')
  if launch_type == 'vertex_ai':
    code_directory = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    xm_resources = resources.vertex_ai_resources(
        resources.vertex_ai_machines(), code_directory, os.path.join(code_directory, 'requirements.txt'))
    lp.launch(program_lib.make_program(config, factory, settings), launch_type='vertex_ai',
              xm_resources=xm_resources)
    return
  try:
    status = run(config, factory, settings, launch_type, _ENV.value)
  except private_network.PrivateNetworkError as error:
    sys.exit(f'error: {error}')
  exit_now(status)


if __name__ == '__main__':
  app.run(main)
