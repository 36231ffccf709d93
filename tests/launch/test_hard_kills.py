"""Hard kills of a local_mp run: of one actor, of the learner, of the whole process group.

Each test starts `python -m launch.local` in a process group of its own, kills processes with
SIGKILL once status.json and the checkpoints show the state the test needs (polled, with
generous timeouts: the machine may be busy), and resumes the run directory.
"""

import json
import os
import time

import pytest

from launch import counter_node
from launch import learner_node
from launch import processes
from launch import replay_node
from launch import status as status_lib

# Checkpoints every 3 s, so that a few seconds of running leave periodic ones to resume from.
RUN = ['--env=gym:CartPole-v1', '--launch_type=local_mp', '--envs_per_actor=4', '--num_simulations=4',
       '--eval_episodes=1', '--eval_period_s=5', '--learner_checkpoint_period_s=3',
       '--replay_checkpoint_period_s=3', '--lp_termination_notice_secs=10']
WAIT_S = 300


class Run(processes.LocalRun):
  """A launch of the small run; a timeout or an early end fails the test with its output."""

  def __init__(self, run_dir, *flags):
    super().__init__(run_dir, [*RUN, *flags],
                     os.path.join(os.path.dirname(run_dir), f'launch-{time.time()}.out'))

  def wait_for(self, condition, what):  # pylint: disable=arguments-differ
    try:
      return super().wait_for(condition, what, WAIT_S)
    except RuntimeError as error:
      pytest.fail(str(error))

  def wait_for_exit(self):  # pylint: disable=arguments-differ
    try:
      return super().wait_for_exit(WAIT_S)
    except RuntimeError as error:
      pytest.fail(str(error))


def _json(path):
  with open(path) as file:
    return json.load(file)


def _checkpointed_beyond_the_start(run_dir):
  step = learner_node.learner_checkpoint_step(run_dir)
  return (step is not None and step > 0 and replay_node.replay_checkpoints(os.path.join(run_dir, 'replay'))[0]
          and os.path.exists(os.path.join(run_dir, counter_node.COUNTER_FILE)))


def _plant_partial_checkpoints(run_dir, step):
  """What a kill while writing can leave: the learner's files of a newer step that its index does
  not name yet, a Reverb directory without DONE, and a counter saved well after the learner."""
  for name in (f'ckpt-{step + 1000}.index', f'ckpt-{step + 1000}.data-00000-of-00001'):
    with open(os.path.join(run_dir, 'learner', name), 'wb') as file:
      file.write(b'partial')
  partial_replay = os.path.join(run_dir, 'replay', '9999-12-31T23:59:59+00:00')
  os.makedirs(partial_replay)
  saved = _json(os.path.join(run_dir, counter_node.COUNTER_FILE))
  saved['counts']['learner_steps'] = saved['counts'].get('learner_steps', 0) + 10_000
  status_lib.write_json_atomically(os.path.join(run_dir, counter_node.COUNTER_FILE), saved)
  return partial_replay


def test_hard_kills_of_an_actor_the_learner_and_the_group_then_resumes(tmp_path):
  # One run directory through three launches (each launch costs the nodes' start-up).
  run_dir = str(tmp_path / 'run')
  run = Run(run_dir, '--num_actors=2', '--max_seconds=3600')
  run.wait_for(lambda status: status.actors_alive == 2 and status.learner_steps > 0,
               'two actors and a learner step')

  # An actor: the run goes on with the other one, and says so.
  run.kill_node('actor', 1)
  killed_at = run.wait_for(lambda status: status.actors_alive == 1, 'actor count down to 1').learner_steps
  run.wait_for(lambda status: status.learner_steps > killed_at + 20 and status.num_actors == 2
               and _checkpointed_beyond_the_start(run_dir), 'learner steps after the actor kill')
  assert 'actors 1/2 alive' in run.output()

  # The learner: the program stops by itself, naming it.
  run.kill_node('learner')
  killed = time.time()
  assert run.wait_for_exit() == 1
  stopped_after_s = time.time() - killed
  status = run.status()
  assert status.state == 'failed' and status.reason.startswith('the learner stopped answering'), status
  assert 'run failed: the learner stopped answering' in run.output()
  # The monitor's 10 s plus the 10 s termination notice; bench.chaos measures it, this only
  # catches a program that waits for ever.
  assert stopped_after_s < 120, stopped_after_s
  step = learner_node.learner_checkpoint_step(run_dir)

  # It resumes from the learner's last periodic checkpoint, with both actors again; then the
  # whole process group is killed mid-run.
  run = Run(run_dir, '--num_actors=2', '--resume', '--max_seconds=3600')
  run.wait_for(lambda status: status.resumed_from_step == step and status.actors_alive == 2
               and status.learner_steps > step + 20 and learner_node.learner_checkpoint_step(run_dir) > step,
               'learner steps and a checkpoint after the resume')
  run.kill()

  step = learner_node.learner_checkpoint_step(run_dir)
  replay_checkpoint, _ = replay_node.replay_checkpoints(os.path.join(run_dir, 'replay'))
  partial_replay = _plant_partial_checkpoints(run_dir, step)
  env_steps_saved = counter_node.saved_counts(run_dir)['actor_steps']
  run = Run(run_dir, '--num_actors=2', '--resume', f'--max_learner_steps={step + 5}')
  assert run.wait_for_exit() == 0, run.output()[-5000:]
  status = run.status()
  assert status.state == 'finished' and status.resumed_from_step == step
  assert status.learner_steps >= step + 5
  restored = _json(os.path.join(run_dir, replay_node.REPLAY_RESTORED_FILE))
  # The kill may itself have cut a replay checkpoint short: more than the planted one is skipped.
  assert restored['path'] == replay_checkpoint and partial_replay in restored['ignored_partial']
  assert restored['size'] > 0
  # The counter's learner steps follow the learner's checkpoint, not the counter's later save;
  # its environment steps continue from what it saved.
  counts = counter_node.saved_counts(run_dir)
  assert step <= counts['learner_steps'] <= status.learner_steps
  assert status.env_steps >= env_steps_saved > 0
