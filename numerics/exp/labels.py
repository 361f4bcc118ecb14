"""Labels of the experiment's figures (EXP-1, DYN-3, CPX-2), marked text (audit/markup.py):
declared beside numerics/exp/checks.py, which produces the figures."""
from __future__ import annotations

from ..recsys.methods import EXACT

WOP = ("sparsemax", "entmax-1.5", "rankmax")  # as numerics/exp_checks.WOP (checked there)

HYPER = {"lr": "learning rate", "weight_decay": "weight decay", "lam": r"ridge $\lambda$", "alpha": r"$\alpha$",
         "k": "neighbours $k$", "shrink": "shrinkage", "m": "samples $m$"}
#: labels of every figure these checks produce (marked text), inner field names included
LABELS: dict[str, str] = {
    # every row (_finish)
    "dataset": "data set", "alpha_per_interval": r"false-alarm share per interval ($\alpha$ over the comparisons)",
    "level": "level of every interval (Bonferroni)", "comparisons_in_family": "comparisons in the experiment's family",
    "splits": "splits (one training seed each)",
    "runs_from": "where the runs come from (the committed final-runs record, verified, or trained in this run)",
    "comparisons": "split-level comparisons of the selections: mean NDCG@20 difference, lower end, upper end",
    "plausible_pairs": "pairs of plausible configurations each comparison is decided over",
    "over_plausible_pairs": "decision over every plausible pair (intersection-union)",
    "equivalence": "equivalence test (TOST) of an undecided comparison",
    "plausible_sets": "plausible configurations (not separated from the selection on validation)",
    "sensitivity": "comparisons the selections decide but a plausible pair does not",
    "comparison": "comparison", "pair": "the disagreeing pair of plausible configurations",
    "interval": "its interval", "outcome_of_selections": "outcome with the selections alone",
    "config": "configuration", "valid_ndcg@20": "validation NDCG@20 (mean over the tuning seeds)",
    "plausible_set": "plausible configurations: validation and test NDCG@20 (mean over splits)",
    # one method's figures (EXP-1)
    "ndcg@10": "test NDCG@10 (mean over splits)", "ndcg@20": "test NDCG@20 (mean over splits)",
    "recall@20": "test Recall@20 (mean over splits)", "ndcg@20_run_ci95": "95% interval of test NDCG@20 over splits",
    "selected": "selected configuration", "selected_epochs": "selected epoch count",
    "selected_at_epoch_cap": "selection at the epoch cap", "selected_on_grid_edge": "grid axes whose edge it sits on",
    "epoch_s": "wall time per epoch (s, median over splits)", "flops_per_epoch": "counted operations per epoch",
    "flops_to_selection": "counted operations to the selected model",
    "grad_fraction": "fraction of negative scores with a nonzero gradient",
    "calibration": "calibration baselines and tuned softmax", "tuning_grids": "tuning grids",
    "tuning_budget": "tuning budget (configurations per method)",
    **HYPER,
    # DYN-3
    **{f"ndcg@20[{m}]": f"test NDCG@20 of {m} (mean over splits)" for m in ("softmax", *WOP)},
    **{f"grad_fraction[{m}]": f"fraction of negative scores with a nonzero gradient, {m}" for m in EXACT},
    # CPX-2
    "ndcg@20_by_method": "test NDCG@20 (mean over splits)",
    "epoch_s_by_method": "wall time per epoch (s, median over splits)",
    "cheaper_per_epoch": "methods cheaper per epoch than softmax",
    "plot_selection": "test NDCG@20 against counted operations to the selected model (plot data)",
    "ratio_to_softmax": "counted operations per epoch relative to the reference",
}
