"""Node placement: accelerators hidden from CPU groups locally; per-group machines on Vertex AI."""

import importlib.util

import pytest

from launch import resources


def test_local_resources_hide_accelerators_from_all_but_the_learner(monkeypatch):
  monkeypatch.delenv(resources.ONEDNN_VARIABLE, raising=False)
  local = resources.local_resources()
  assert set(local) == set(resources.GROUPS)
  for group in resources.CPU_ONLY_GROUPS:
    assert local[group].env == {'CUDA_VISIBLE_DEVICES': ''}, group
  assert local['learner'].env == {resources.ONEDNN_VARIABLE: '1'}


def test_local_resources_keep_the_users_onednn_choice(monkeypatch):
  monkeypatch.setenv(resources.ONEDNN_VARIABLE, '0')
  assert resources.local_resources()['learner'].env == {resources.ONEDNN_VARIABLE: '0'}


def test_vertex_ai_machines_put_the_learner_on_an_accelerator():
  machines = resources.vertex_ai_machines(accelerator='V100', accelerator_count=2, actor_cpus=16,
                                          replay_memory_gib=128)
  assert set(machines) == set(resources.GROUPS)
  assert machines['learner'].job_requirements_kwargs()['V100'] == 2
  assert machines['actor'].accelerator is None and machines['actor'].cpu == 16
  assert machines['replay'].job_requirements_kwargs()['ram'] == 128 * 2**30
  for group in resources.CPU_ONLY_GROUPS:
    assert 'V100' not in machines[group].job_requirements_kwargs(), group


@pytest.mark.parametrize('kwargs, message', [
    ({'accelerator_count': 0}, r'accelerator_count=0 is not allowed'),
    ({'actor_cpus': 0}, r'actor_cpus=0 and replay_memory_gib=64 must be >= 1'),
])
def test_vertex_ai_machines_reject_impossible_sizes(kwargs, message):
  with pytest.raises(ValueError, match=message):
    resources.vertex_ai_machines(**kwargs)


def test_vertex_ai_resources_need_every_group_and_real_paths(tmp_path):
  machines = resources.vertex_ai_machines()
  del machines['replay']
  with pytest.raises(ValueError, match=r"no machine given for node group\(s\) \['replay'\]"):
    resources.vertex_ai_resources(machines, str(tmp_path), str(tmp_path))
  with pytest.raises(ValueError, match=r"'/nonexistent' does not exist"):
    resources.vertex_ai_resources(resources.vertex_ai_machines(), '/nonexistent', str(tmp_path))


@pytest.mark.skipif(importlib.util.find_spec('xmanager') is not None,
                    reason='checks the message shown when xmanager is not installed')
def test_vertex_ai_without_xmanager_says_what_to_install(tmp_path):
  requirements = tmp_path / 'requirements.txt'
  requirements.write_text('')
  with pytest.raises(RuntimeError, match=r'pip install xmanager'):
    resources.vertex_ai_resources(resources.vertex_ai_machines(), str(tmp_path), str(requirements))
