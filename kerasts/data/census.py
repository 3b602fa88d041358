"""The UCI Census-Income (KDD) table of the MMoE paper, from a local file."""

import pandas as pd

CENSUS_COLUMNS = [
    "age", "class_worker", "det_ind_code", "det_occ_code", "education", "wage_per_hour", "hs_college", "marital_stat",
    "major_ind_code", "major_occ_code", "race", "hisp_origin", "sex", "union_member", "unemp_reason",
    "full_or_part_emp", "capital_gains", "capital_losses", "stock_dividends", "tax_filer_stat", "region_prev_res",
    "state_prev_res", "det_hh_fam_stat", "det_hh_summ", "instance_weight", "mig_chg_msa", "mig_chg_reg",
    "mig_move_reg", "mig_same", "mig_prev_sunbelt", "num_emp", "fam_under_18", "country_father", "country_mother",
    "country_self", "citizenship", "own_or_self", "vet_question", "vet_benefits", "weeks_worked", "year", "income_50k",
]
CENSUS_NUMERIC = ["age", "wage_per_hour", "capital_gains", "capital_losses", "stock_dividends", "num_emp",
                  "weeks_worked"]


def load_census_income(path):
    """Reads `census-income.data` or `.test` (optionally gzipped): 42 comma-separated fields, no header.

    Returns a DataFrame with `CENSUS_COLUMNS`; numeric columns as numbers, the others as stripped
    strings (codes such as `det_ind_code` are categories). The dataset may not ship with kerasts:
    pass the path of your copy.
    """
    # "NA" is a category of hisp_origin, not a missing value.
    table = pd.read_csv(path, header=None, skipinitialspace=True, dtype=str, keep_default_na=False)
    if table.shape[1] != len(CENSUS_COLUMNS):
        raise ValueError(f"{path!r} has {table.shape[1]} fields per row; Census-Income (KDD) has "
                         f"{len(CENSUS_COLUMNS)}.")
    table.columns = CENSUS_COLUMNS
    table = table.apply(lambda column: column.str.strip())
    for column in CENSUS_NUMERIC + ["instance_weight"]:
        table[column] = pd.to_numeric(table[column], errors="raise")
    return table
