"""Batched, in-graph MuZero search (pUCT, or Gumbel MuZero) compiled with tf.function and XLA."""

from search.config import SearchConfig
from search.policies import SearchFn, SearchOutput, run_search

__all__ = ['SearchConfig', 'SearchFn', 'SearchOutput', 'run_search']
