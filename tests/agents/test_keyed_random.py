"""Tests of agents.muzero.keyed_random: per-row random numbers from keys."""

import numpy as np
import tensorflow as tf

from agents.muzero import keyed_random


def test_a_row_depends_on_its_key_alone():
  both = keyed_random.uniforms(tf.constant([5, 7]), 6).numpy()
  np.testing.assert_array_equal(both[1], keyed_random.uniforms(tf.constant([7]), 6).numpy()[0])
  assert not np.allclose(both[0], both[1])
  # Normals are functions of those uniforms (vectorised cos and log may round differently).
  normals = keyed_random.normals(tf.constant([5, 7]), [3, 2]).numpy()
  assert normals.shape == (2, 3, 2)
  np.testing.assert_allclose(normals[1], keyed_random.normals(tf.constant([7]), [3, 2])[0],
                             atol=1e-6)


def test_compiled_and_eager_numbers_agree():
  keys = tf.constant([0, 1, 2 ** 24 - 1])
  compiled = tf.function(lambda k: keyed_random.uniforms(k, 16), jit_compile=True)
  np.testing.assert_array_equal(compiled(keys), keyed_random.uniforms(keys, 16))
  assert len(np.unique(compiled(keys).numpy())) == 48


def test_uniforms_and_normals_have_their_distribution():
  # Fixed keys make these sample statistics fixed numbers; the bounds are what a correct
  # generator gives with 200,000 draws (standard errors 0.0006 for the mean, 0.002 for std).
  keys = tf.range(1000)
  uniforms = keyed_random.uniforms(keys, 200).numpy()
  assert uniforms.min() > 0 and uniforms.max() < 1
  assert abs(uniforms.mean() - 0.5) < 0.005
  normals = keyed_random.normals(keys, [200]).numpy()
  assert abs(normals.mean()) < 0.01 and abs(normals.std() - 1) < 0.01
  # Neighbouring keys and neighbouring counters are not correlated.
  assert abs(np.corrcoef(normals[:-1].ravel(), normals[1:].ravel())[0, 1]) < 0.01
  assert abs(np.corrcoef(normals[:, :-1].ravel(), normals[:, 1:].ravel())[0, 1]) < 0.01


def test_child_keys_fit_float32_and_differ_by_slot_and_parent():
  parents = tf.constant([3, 3, 3, 4])
  children = keyed_random.child_keys(parents, tf.constant([0, 1, 2, 0])).numpy()
  assert len(set(children.tolist())) == 4
  assert children.min() >= 0 and children.max() < 2 ** keyed_random.KEY_BITS
  np.testing.assert_array_equal(np.float32(children).astype(np.int64), children)
