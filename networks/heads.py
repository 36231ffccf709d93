"""Heads that turn a spatial latent into logits, after AlphaZero's policy and value heads."""

from typing import Optional

import sonnet as snt
import tensorflow as tf


class ConvHead(snt.Module):
  """[B, H, W, C] -> [B, output_size] logits.

  A 1x1 convolution to a few channels and relu, flattened, then an optional hidden layer and a
  linear output. The 1x1 convolution keeps the fully connected layer small whatever the tower's
  width. There is no normalisation: LayerNorm over so few channels would reduce each position to
  little more than the sign pattern of its channels.
  """

  def __init__(self, output_size: int, channels: int, hidden_size: Optional[int] = None,
               output_w_init: Optional[snt.initializers.Initializer] = None,
               name: Optional[str] = None):
    """Builds the layers.

    Args:
      output_size: number of logits.
      channels: output channels of the 1x1 convolution.
      hidden_size: width of the hidden layer; None maps the flattened features straight to logits.
      output_w_init: initializer of the output weights; None is Sonnet's default.
      name: module name.
    """
    super().__init__(name=name)
    self._conv = snt.Conv2D(channels, 1)
    self._flatten = snt.Flatten()
    self._hidden = snt.Linear(hidden_size) if hidden_size is not None else None
    self._output = snt.Linear(output_size, w_init=output_w_init)

  def __call__(self, x: tf.Tensor) -> tf.Tensor:
    x = self._flatten(tf.nn.relu(self._conv(x)))
    if self._hidden is not None:
      x = tf.nn.relu(self._hidden(x))
    return self._output(x)
