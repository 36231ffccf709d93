"""Residual torsos: a residual MLP for vectors, conv towers for boards and latents, and the paper's
down-sampling ResNet for 96x96 Atari frames (MuZero, Appendix F).

Normalisation is LayerNorm rather than the paper's batch norm: it needs no train/inference switch
and no moving statistics, so actors and the learner compute exactly the same function of the same
weights, and a sample's output does not depend on the rest of its batch.
"""

from typing import Optional, Sequence

import sonnet as snt
import tensorflow as tf


class LayerNorm(snt.LayerNorm):
  """LayerNorm over the last axis with a learned scale and offset, whose moments are dot products.

  The same function (up to float rounding), variables and checkpoints as
  `snt.LayerNorm(-1, True, True)`. Sonnet's moments are reductions over the channels, and XLA's
  CPU backend rewrites every reduction over more than 32 elements into a reduce-window (its
  TreeReductionRewriter, for precision) that LLVM compiles slowly: with towers of 256 channels, the chess preset's dynamics network
  compiled in ~25 s of CPU, ~7 s with dot products, at the same speed per call in XLA and in
  graph mode (BENCHMARKS.md, "Search compile time"). A dot product stays a dot for XLA.
  """

  def __init__(self, name: Optional[str] = None):
    super().__init__(-1, create_scale=True, create_offset=True, name=name)

  def __call__(self, inputs: tf.Tensor) -> tf.Tensor:
    self._initialize(inputs)
    channels = inputs.shape[-1]
    average = tf.fill([channels, 1], tf.constant(1.0 / channels, inputs.dtype))
    mean = tf.tensordot(inputs, average, 1)
    centered = inputs - mean
    variance = tf.tensordot(tf.square(centered), average, 1)
    return centered * tf.math.rsqrt(variance + self._eps) * self.scale + self.offset


class MLPResidualBlock(snt.Module):
  """relu(x + LN(W2 relu(LN(W1 x)))), the fully connected analogue of a ResNet block."""

  def __init__(self, width: int, name: Optional[str] = None):
    super().__init__(name=name)
    self._first = snt.Linear(width)
    self._first_norm = LayerNorm()
    self._second = snt.Linear(width)
    self._second_norm = LayerNorm()

  def __call__(self, x: tf.Tensor) -> tf.Tensor:
    residual = tf.nn.relu(self._first_norm(self._first(x)))
    residual = self._second_norm(self._second(residual))
    return tf.nn.relu(x + residual)


class ResidualMLP(snt.Module):
  """[B, ...] -> [B, output_size or width]: flatten, one hidden layer, residual blocks, output layer."""

  def __init__(self, width: int, num_blocks: int, output_size: Optional[int] = None,
               name: Optional[str] = None):
    """Builds the layers; `output_size=None` returns the last hidden layer, for heads to read."""
    super().__init__(name=name)
    self._flatten = snt.Flatten()
    self._hidden = snt.Linear(width)
    self._blocks = [MLPResidualBlock(width, name=f'block_{index}') for index in range(num_blocks)]
    self._output = snt.Linear(output_size) if output_size is not None else None

  def __call__(self, x: tf.Tensor) -> tf.Tensor:
    x = tf.nn.relu(self._hidden(self._flatten(x)))
    for block in self._blocks:
      x = block(x)
    return self._output(x) if self._output is not None else x


class ConvResidualBlock(snt.Module):
  """relu(x + LN(conv(relu(LN(conv(x)))))) with 3x3 convolutions, AlphaZero's block."""

  def __init__(self, channels: int, name: Optional[str] = None):
    super().__init__(name=name)
    self._first = snt.Conv2D(channels, 3)
    self._first_norm = LayerNorm()
    self._second = snt.Conv2D(channels, 3)
    self._second_norm = LayerNorm()

  def __call__(self, x: tf.Tensor) -> tf.Tensor:
    residual = tf.nn.relu(self._first_norm(self._first(x)))
    residual = self._second_norm(self._second(residual))
    return tf.nn.relu(x + residual)


class ConvStage(snt.Module):
  """[B, H, W, C_in] -> [B, ceil(H / stride), ceil(W / stride), channels].

  A 3x3 convolution (which sets the channel count and, with stride 2, halves the resolution),
  LayerNorm and relu, then `num_blocks` residual blocks.
  """

  def __init__(self, channels: int, num_blocks: int, stride: int = 1, name: Optional[str] = None):
    super().__init__(name=name)
    self._conv = snt.Conv2D(channels, 3, stride=stride)
    self._norm = LayerNorm()
    self._blocks = [ConvResidualBlock(channels, name=f'block_{index}') for index in range(num_blocks)]

  def __call__(self, x: tf.Tensor) -> tf.Tensor:
    x = tf.nn.relu(self._norm(self._conv(x)))
    for block in self._blocks:
      x = block(x)
    return x


class ResidualTower(snt.Module):
  """[B, H, W, C] -> [B, H, W, C]: residual blocks only, for inputs already at the tower's width."""

  def __init__(self, channels: int, num_blocks: int, name: Optional[str] = None):
    super().__init__(name=name)
    self._blocks = [ConvResidualBlock(channels, name=f'block_{index}') for index in range(num_blocks)]

  def __call__(self, x: tf.Tensor) -> tf.Tensor:
    for block in self._blocks:
      x = block(x)
    return x


class DownsamplingResNet(snt.Module):
  """[B, H, W, C] -> [B, ceil(H / 16), ceil(W / 16), channels]; 96x96 -> 6x6 (paper, Appendix F).

  The paper's sequence: a stride-2 convolution to `first_channels` (48x48) and `blocks[0]`
  residual blocks; a stride-2 convolution to `channels` (24x24) and `blocks[1]` blocks; 3x3
  average pooling with stride 2 (12x12) and `blocks[2]` blocks; average pooling with stride 2
  (6x6).
  """

  def __init__(self, first_channels: int, channels: int, blocks: Sequence[int],
               name: Optional[str] = None):
    super().__init__(name=name)
    self._first = ConvStage(first_channels, blocks[0], stride=2, name='stage_0')
    self._second = ConvStage(channels, blocks[1], stride=2, name='stage_1')
    self._third = ResidualTower(channels, blocks[2], name='stage_2')

  def __call__(self, x: tf.Tensor) -> tf.Tensor:
    x = self._second(self._first(x))
    x = self._third(_average_pool(x))
    return _average_pool(x)


def downsampled_size(size: int) -> int:
  """The height or width `DownsamplingResNet` makes of `size`: four SAME-padded halvings."""
  for _ in range(4):
    size = -(-size // 2)
  return size


def _average_pool(x: tf.Tensor) -> tf.Tensor:
  return tf.nn.avg_pool2d(x, ksize=3, strides=2, padding='SAME')
