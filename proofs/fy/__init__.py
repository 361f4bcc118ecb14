"""FY-1 … FY-4: the Fenchel–Young properties (CLAIMS.md §1): in sympy."""
