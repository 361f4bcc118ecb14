"""The representative experiment (CLAIMS.md §6): matrix factorization for top-K
recommendation trained with every member of the Softmax family.

- :mod:`.methods` -- one objective per loss, on batches of users (exact losses) or
  of their interactions (sampled and tree losses), plus RG² by ALS;
- :mod:`.split` -- per-user train/test split and batching;
- :mod:`.metrics` -- full-ranking NDCG@K and Recall@K with training items masked;
- :mod:`.train` -- the training loop (progress on stderr) and the multi-seed experiment.
"""
