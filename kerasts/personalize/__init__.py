"""The Personalize workflow: a dataset group of Amazon Personalize's tables -> a solution (one recipe
or AutoML) -> a trained solution version with offline metrics -> recommendations, filters,
personalized ranking and batch inference jobs.

```python
group = kerasts.personalize.DatasetGroup("interactions.csv", items="items.csv")
version = kerasts.personalize.create_solution(group, perform_auto_ml=True).create_version()
version.leaderboard, version.metrics                  # Personalize's metric names
version.get_recommendations(user_id="42", filter='EXCLUDE ItemID WHERE Items.GENRE IN ("horror")')
version.save("solution/")                              # kerasts.personalize.load_solution_version("solution/")
```
"""

from kerasts.personalize.dataset_group import DatasetGroup
from kerasts.personalize.filters import Filter
from kerasts.personalize.recipes import RECIPE_TYPES, Recipe, recipe_names, register_recipe
from kerasts.personalize.solution import (METRIC_NAMES, Solution, SolutionVersion, create_solution, fit_recipe,
                                          load_solution_version)

__all__ = ["DatasetGroup", "Filter", "METRIC_NAMES", "RECIPE_TYPES", "Recipe", "Solution", "SolutionVersion",
           "create_solution", "fit_recipe", "load_solution_version", "recipe_names", "register_recipe"]
