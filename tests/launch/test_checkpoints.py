"""Replay checkpoints interrupted while written: Reverb 0.7 restores the previous one."""

import os

import pytest
import reverb

from launch import replay_node


def _server(directory):
  table = reverb.Table.queue('items', max_size=100)
  return reverb.Server(tables=[table], checkpointer=reverb.checkpointers.DefaultCheckpointer(directory))


def test_replay_checkpoint_interrupted_while_written_is_skipped_for_the_previous_one(tmp_path):
  directory = str(tmp_path / 'replay')
  server = _server(directory)
  client = server.localhost_client()
  for value in range(5):
    client.insert(value, {'items': 1.0})
  complete = client.checkpoint()
  server.stop()
  # A kill while writing: a newer directory with some files and no DONE file (Reverb names them
  # by the time; this one sorts last).
  partial = os.path.join(directory, '9999-12-31T23:59:59+00:00')
  os.makedirs(partial)
  with open(os.path.join(partial, 'tables.tfrecord'), 'wb') as file:
    file.write(b'\x00\x01partial')

  assert replay_node.replay_checkpoints(directory) == (complete, [partial])
  restarted = _server(directory)
  assert restarted.localhost_client().server_info()['items'].current_size == 5
  restarted.stop()


def test_replay_checkpoints_of_an_empty_or_missing_directory(tmp_path):
  assert replay_node.replay_checkpoints(str(tmp_path / 'missing')) == (None, [])
  os.makedirs(tmp_path / 'replay' / 'only-partial')
  assert replay_node.replay_checkpoints(str(tmp_path / 'replay')) == (
      None, [str(tmp_path / 'replay' / 'only-partial')])


def _tables():
  return [reverb.Table.queue('items', max_size=100)]


def _checkpoint_with(run_dir, count):
  """Restores the run directory's replay, fills it to `count` items, checkpoints and keeps that
  checkpoint as the replay node does; returns the checkpoint's path."""
  server, _ = replay_node.start_replay_server(_tables, None, run_dir)
  client = server.localhost_client()
  for value in range(client.server_info()['items'].current_size, count):
    client.insert(value, {'items': 1.0})
  path = client.checkpoint()
  replay_node.keep_replay_checkpoint(run_dir, path)
  server.stop()
  return path


def _restored(run_dir):
  server, restored = replay_node.start_replay_server(_tables, None, run_dir)
  size = server.localhost_client().server_info()['items'].current_size
  server.stop()
  return size, restored


def _flip_a_byte(path):
  with open(path, 'r+b') as file:
    data = bytearray(file.read())
    data[len(data) // 2] ^= 0xFF
    file.seek(0)
    file.write(data)


def _truncate(path, fraction):
  with open(path, 'r+b') as file:
    file.truncate(int(os.path.getsize(path) * fraction))


# Damage a complete checkpoint (its DONE file present) can hold; an empty tables file is the one
# that Reverb itself loads without an error, as an empty table.
DAMAGES = {
    'corrupted chunks': lambda path: _flip_a_byte(os.path.join(path, 'chunks.tfrecord')),
    'truncated chunks': lambda path: _truncate(os.path.join(path, 'chunks.tfrecord'), 0.5),
    'corrupted tables': lambda path: _flip_a_byte(os.path.join(path, 'tables.tfrecord')),
    'truncated tables': lambda path: _truncate(os.path.join(path, 'tables.tfrecord'), 0.5),
    'empty tables': lambda path: _truncate(os.path.join(path, 'tables.tfrecord'), 0.0),
}


@pytest.mark.parametrize('damage', sorted(DAMAGES))
def test_a_damaged_newest_replay_checkpoint_falls_back_to_the_one_before(tmp_path, damage, caplog):
  run_dir = str(tmp_path)
  older = _checkpoint_with(run_dir, 5)
  newest = _checkpoint_with(run_dir, 8)
  # Reverb keeps only its newest checkpoint; the older one is kept beside it.
  assert replay_node.replay_checkpoints(os.path.join(run_dir, 'replay'))[0] == newest
  assert not os.path.exists(older)
  DAMAGES[damage](newest)

  size, restored = _restored(run_dir)
  assert size == 5
  kept_older = os.path.join(run_dir, replay_node.REPLAY_KEPT_DIRECTORY, os.path.basename(older))
  assert restored['path'] == kept_older
  assert [entry['path'] for entry in restored['damaged']] == [newest]
  assert 'restored the older' in restored['warning'] and restored['warning'] in caplog.text
  # Set aside, so that the next start does not try it again; the run goes on from the older one.
  assert os.path.isdir(restored['damaged'][0]['moved_to']) and not os.path.exists(newest)
  after = _checkpoint_with(run_dir, 9)
  size, restored = _restored(run_dir)
  assert (size, restored['path'], restored['damaged'], restored['warning']) == (9, after, [], None)


def test_every_replay_checkpoint_damaged_starts_empty_with_a_warning(tmp_path, caplog):
  run_dir = str(tmp_path)
  older = _checkpoint_with(run_dir, 5)
  newest = _checkpoint_with(run_dir, 8)
  DAMAGES['corrupted chunks'](newest)
  DAMAGES['empty tables'](
      os.path.join(run_dir, replay_node.REPLAY_KEPT_DIRECTORY, os.path.basename(older)))

  size, restored = _restored(run_dir)
  assert size == 0 and restored['path'] is None
  assert len(restored['damaged']) == 2
  assert 'the replay starts EMPTY' in restored['warning'] and restored['warning'] in caplog.text


def test_the_replay_keeps_its_two_newest_checkpoints(tmp_path):
  run_dir = str(tmp_path)
  paths = [_checkpoint_with(run_dir, count) for count in (1, 2, 3)]
  kept = os.path.join(run_dir, replay_node.REPLAY_KEPT_DIRECTORY)
  assert sorted(os.listdir(kept)) == [os.path.basename(path) for path in paths[1:]]
  assert os.listdir(os.path.join(run_dir, 'replay')) == [os.path.basename(paths[-1])]
