"""rankmax reading R2 (Kong et al. 2020): its FY and CON rows: claims and planted defects."""
