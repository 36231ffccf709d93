"""Replay checkpoints interrupted while written: Reverb 0.7 restores the previous one."""

import os

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
