"""bench.harness.run: the scaffolding every benchmark script runs under."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = '''
from absl import flags
from bench import harness


def define_flags():
  flags.DEFINE_integer('steps', 3, 'Steps of the fake benchmark.')
  harness.define_json_flag(summary=True)


def main(args):
  print(f'steps={args.steps} json={args.json}')
  return {'a result': 'that is not an exit status'}


if __name__ == '__main__':
  harness.run(define_flags, main)
'''


def _run(tmp_path, *arguments):
  script = tmp_path / 'fake_benchmark.py'
  script.write_text(SCRIPT)
  return subprocess.run([sys.executable, str(script), *arguments], cwd=ROOT, text=True,
                        capture_output=True, timeout=120,
                        env=dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL='2'))


def test_main_gets_the_parsed_flags_and_its_return_value_is_not_the_exit_status(tmp_path):
  process = _run(tmp_path, '--steps=5', '--json')
  assert process.returncode == 0, process.stderr
  assert process.stdout.strip() == 'steps=5 json=True'
  assert 'a result' not in process.stderr


@pytest.mark.parametrize('arguments', [('16',), ('--steps=5', 'json')])
def test_positional_arguments_are_refused_naming_them(tmp_path, arguments):
  process = _run(tmp_path, *arguments)
  assert process.returncode != 0
  assert f"unexpected arguments {list(arguments[-1:])}; allowed: flags only" in process.stderr
  assert 'steps=' not in process.stdout


def test_help_lists_the_harness_flags_with_the_scripts_own(tmp_path):
  help_text = _run(tmp_path, '--help').stdout
  assert '--steps' in help_text and '--[no]json' in help_text
  assert 'Make the last stdout line a JSON summary.' in help_text


def test_pin_to_cpu_pins_the_threads_tensorflow_started_and_those_after():
  cpu = max(os.sched_getaffinity(0))
  # In a child: pinning this test process would slow the rest of the suite.
  code = f'''
import os
import tensorflow as tf
from bench import harness
harness.pin_to_cpu({cpu})
harness.limit_threads(2)
tf.reduce_sum(tf.ones([1000, 1000]) @ tf.ones([1000, 1000])).numpy()
for thread in os.listdir('/proc/self/task'):
  print(sorted(os.sched_getaffinity(int(thread))))
'''
  process = subprocess.run([sys.executable, '-c', code], cwd=ROOT, text=True,
                           capture_output=True, timeout=120,
                           env=dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL='2'))
  assert process.returncode == 0, process.stderr[-3000:]
  affinities = process.stdout.split('\n')[:-1]
  assert len(affinities) > 1 and set(affinities) == {f'[{cpu}]'}


def test_pin_to_cpu_refuses_a_cpu_this_process_may_not_use():
  from bench import harness  # pylint: disable=g-import-not-at-top
  with pytest.raises(ValueError, match=r'--cpu=4096 is not allowed; allowed: one of the CPUs'):
    harness.pin_to_cpu(4096)
