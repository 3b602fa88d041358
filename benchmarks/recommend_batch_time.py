"""In-process time of `SolutionVersion.get_recommendations_batch`: what a campaign's worker spends on a batch of
concurrent GetRecommendations, without HTTP.

    .venv/bin/python benchmarks/recommend_batch_time.py SOLUTION [--batch 8] [--passes 40]

Loads the saved solution version (e.g. the HRNN one `benchmarks/campaign_load.py` keeps in
/tmp/kerasts-campaign-hrnn), asks its first `8 * batch` known users once to warm it, then times `--passes` passes
over 8 batches of `--batch` requests (25 items each) and prints the median milliseconds a batch.
"""

import argparse
import statistics
import time

import kerasts  # noqa: F401  (first: silences TensorFlow's start-up logging)
from kerasts.personalize import load_solution_version


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("solution")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--passes", type=int, default=40)
    arguments = parser.parse_args()
    version = load_solution_version(arguments.solution)
    users = list(version.interactions["USER_ID"].unique()[:8 * arguments.batch])
    batches = [[{"user_id": user, "num_results": 25} for user in users[start:start + arguments.batch]]
               for start in range(0, len(users), arguments.batch)]
    for batch in batches:
        version.get_recommendations_batch(batch)
    times = []
    for _ in range(arguments.passes):
        for batch in batches:
            start = time.perf_counter()
            version.get_recommendations_batch(batch)
            times.append(time.perf_counter() - start)
    print(f"batch of {arguments.batch}: median {statistics.median(times) * 1000:.3f} ms over {len(times)} batches")


if __name__ == "__main__":
    main()
