"""audit-loss: the rows of a user's separable loss (issue 23): numeric checks."""
