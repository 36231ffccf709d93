"""The whole distributed program on CartPole (and on a user's own environment): it learns, publishes,
evaluates, stops, resumes.

Each test runs `python -m launch.local` (or the faulty variant) in a subprocess: Launchpad stops
a program by signalling its launcher, which must not be the pytest process.
"""

import csv
import json
import os
import signal
import subprocess
import sys

import pytest

from launch import replay_node
from launch import status as status_lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL_RUN = ['--env=gym:CartPole-v1', '--num_actors=1', '--envs_per_actor=4', '--num_simulations=8',
             '--eval_episodes=2', '--eval_period_s=5', '--lp_termination_notice_secs=60']


def _launch(run_dir, *flags, module='launch.local', timeout=400, base_flags=SMALL_RUN):
  """Runs the program to its end; on a timeout kills its whole process group (local_mp nodes too)."""
  process = subprocess.Popen(
      [sys.executable, '-m', module, f'--run_dir={run_dir}', *base_flags, *flags],
      cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES=''))
  try:
    stdout, stderr = process.communicate(timeout=timeout)
  except subprocess.TimeoutExpired:
    os.killpg(process.pid, signal.SIGKILL)
    stdout, stderr = process.communicate()
    pytest.fail(f'the program did not stop within {timeout} s\n{stdout[-3000:]}\n{stderr[-5000:]}')
  assert process.returncode == 0, f'exit {process.returncode}\n{stdout[-3000:]}\n{stderr[-5000:]}'
  return status_lib.read_status(os.path.join(run_dir, 'status.json')), stdout


def _json(path):
  with open(path) as file:
    return json.load(file)


def test_runs_stops_by_itself_then_resumes_without_loss(tmp_path):
  run_dir = str(tmp_path / 'run')
  first, stdout = _launch(run_dir, '--launch_type=test_mt', '--max_learner_steps=20')
  assert first.state == 'finished' and 'max_learner_steps=20' in first.reason
  assert first.learner_steps >= 20
  assert first.env_steps > 0 and first.replay_size > 0
  assert first.weights_version >= 10  # Newer than the first publication (version 0).
  assert first.last_eval_return is not None and first.last_eval_return > 0
  assert first.resumed_from_step is None
  assert 'summary:' in stdout and 'learner steps' in stdout
  with open(os.path.join(run_dir, 'learning_curve.png'), 'rb') as curve:
    assert curve.read(8) == b'\x89PNG\r\n\x1a\n'
  checkpointed = _json(os.path.join(run_dir, 'replay_checkpoint.json'))['size']
  counts_before = _json(os.path.join(run_dir, 'counter.json'))
  assert checkpointed > 0

  second, _ = _launch(run_dir, '--launch_type=test_mt', '--max_learner_steps=40', '--resume')
  assert second.resumed_from_step == first.learner_steps
  assert second.learner_steps >= 40
  restored = _json(os.path.join(run_dir, 'replay_restored.json'))
  assert restored['size'] == checkpointed and restored['damaged'] == []
  # Both stops' replay checkpoints are kept (Reverb's own directory holds the newest only).
  assert len(os.listdir(os.path.join(run_dir, replay_node.REPLAY_KEPT_DIRECTORY))) == 2
  assert len(os.listdir(os.path.join(run_dir, 'replay'))) == 1
  counts_after = _json(os.path.join(run_dir, 'counter.json'))
  before = counts_before['cache'].get('actor_steps', 0) + counts_before['counts'].get('actor_steps', 0)
  after = counts_after['cache'].get('actor_steps', 0) + counts_after['counts'].get('actor_steps', 0)
  assert after > before > 0
  assert second.env_steps >= first.env_steps  # Counts continue from the checkpoint, not from 0.


def test_continuous_control_program_runs_on_pendulum_with_a_reanalyzer_node(tmp_path):
  # --config=auto picks the continuous_control preset (Sampled MuZero) for Pendulum's Box
  # actions; the evaluator's greedy episodes return Pendulum's negative costs. A reanalyzer
  # samples new actions for the stored items, and the learner takes half of each batch from the
  # reanalyze table, which only the reanalyzer fills: learner steps prove it consumed reanalysed
  # items, and status.json says how fresh.
  status, stdout = _launch(
      str(tmp_path / 'run'), '--launch_type=test_mt', '--max_learner_steps=10',
      '--config_overrides=min_replay_size=64,batch_size=16', '--num_reanalyzers=1',
      base_flags=['--env=gym:Pendulum-v1'] + SMALL_RUN[1:])
  assert status.state == 'finished' and status.learner_steps >= 10
  assert status.last_eval_return is not None and -2000 < status.last_eval_return < 0
  assert '1 reanalyzers (0.5 of every batch)' in stdout
  assert status.reanalyzed_items > 0
  assert (status.num_reanalyzers, status.reanalyzers_alive) == (1, 1)  # The monitor watches it.
  assert status.reanalyzed_target_staleness is not None
  assert 0 <= status.reanalyzed_target_staleness <= status.learner_steps


def test_local_multiprocessing_run(tmp_path):
  run_dir = str(tmp_path / 'run')
  status, _ = _launch(run_dir, '--launch_type=local_mp', '--max_learner_steps=10')
  assert status.state == 'finished' and status.learner_steps >= 10
  assert (status.num_actors, status.actors_alive) == (1, 1)
  assert status.env_steps > 0 and status.replay_size > 0
  process_logs = os.path.join(run_dir, 'logs', 'processes')
  for group in ('learner', 'actor', 'evaluator', 'monitor', 'counter', 'variable_server'):
    assert os.listdir(os.path.join(process_logs, group)), group
  # The replay is a thread of the learner's process, which ended only after the replay's
  # checkpoint at the stop.
  assert not os.path.exists(os.path.join(process_logs, 'replay'))
  learner_log = os.path.join(process_logs, 'learner', os.listdir(os.path.join(process_logs, 'learner'))[0])
  with open(learner_log) as log:
    assert 'replay: checkpointed' in log.read()
  with open(os.path.join(run_dir, replay_node.REPLAY_CHECKPOINT_FILE)) as file:
    assert json.load(file)['size'] > 0
  with open(os.path.join(process_logs, 'monitor', os.listdir(os.path.join(process_logs, 'monitor'))[0])) as log:
    assert 'run finished: reached max_learner_steps=10' in log.read()
  assert os.path.isdir(os.path.join(run_dir, 'tensorboard', 'learner'))


def test_users_own_environment_factory_runs_and_an_actor_whose_environment_raises_restarts(tmp_path):
  # dm_env's default dtypes (int64 actions, float64 rewards, discounts, observations), made in
  # every node by name: the id is all the program pickles. Actor 0's first environments raise
  # after 20 steps (`faulty_run`); the actor restarts with new ones and the run goes on.
  run_dir = str(tmp_path / 'run')
  factory = 'python:tests.agents.user_environments:make_int64_float64_environment'
  status, _ = _launch(run_dir, '--launch_type=test_mt', '--max_learner_steps=15',
                      '--raise_after_steps=20', module='tests.launch.faulty_run', base_flags=[
      f'--env={factory}', '--num_actors=1', '--envs_per_actor=4', '--num_simulations=4',
      '--eval_episodes=1', '--eval_period_s=5', '--lp_termination_notice_secs=60'])
  assert status.state == 'finished' and status.learner_steps >= 15
  assert status.env_steps > 0 and status.replay_size > 0
  assert status.actor_restarts >= 1
  with open(os.path.join(run_dir, 'logs', 'actor_0', 'logs.csv')) as log:
    lengths = {row['episode_length'] for row in csv.DictReader(log)}
  assert lengths == {'4'}  # The user's episodes (CartPole's would be longer and vary).
