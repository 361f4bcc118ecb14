"""audit-loss: the rows of a user's separable loss (issue 23): claims and planted defects."""
