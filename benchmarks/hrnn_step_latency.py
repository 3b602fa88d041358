"""One event through HRNN's exported `step` endpoint: the SavedModel against its LiteRT conversion.

    .venv/bin/python benchmarks/hrnn_step_latency.py [--items 3466] [--units 100] [--k 20] [--events 300]

The network has the MovieLens sessions' catalog size and the recipe's width by default; its weights are
left untrained (the time of a step does not depend on them). Both files come from the same
`model.export` (`format="litert"` for the second); a step reads one item id and the two states and
returns the top-`k` ids, their scores and the new states. Prints the median milliseconds of `--events`
single-event calls, twice, after checking that both files rank the first event alike.
"""

import argparse
import os
import tempfile

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasts.export import load_litert, load_saved_model  # noqa: E402
from kerasts.models import HRNN  # noqa: E402

from latency import median_ms  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3466)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()
    ids = [f"m{index}" for index in range(args.items)]
    model = HRNN(ids, units=args.units, num_slots=1)
    model.build()
    events = np.random.default_rng(0).choice(ids, args.events)
    flags = np.ones(1, "float32")
    session, user = np.zeros((1, args.units), "float32"), np.zeros((1, model.user_units), "float32")
    with tempfile.TemporaryDirectory() as directory:
        model.export(os.path.join(directory, "step"), k=args.k)
        saved = load_saved_model(os.path.join(directory, "step"))
        lite = load_litert(model.export(os.path.join(directory, "step.tflite"), format="litert", k=args.k))
        lite_step = lite.get_signature_runner("step")

        def through_saved_model(item):
            return saved.step(tf.constant([item]), tf.constant(flags), tf.constant(flags), tf.constant(session),
                              tf.constant(user))

        def through_litert(item):
            return lite_step(item_ids=np.array([item], dtype=object), session_start=flags, user_start=flags,
                             session_state=session, user_state=user)

        first_saved, first_lite = through_saved_model(events[0]), through_litert(events[0])
        if not np.array_equal(first_saved["item_ids"].numpy(), first_lite["item_ids"]):
            raise SystemExit("The SavedModel and the LiteRT file rank the first event differently.")
        print(f"HRNN step over {args.items:,} items, {args.units} units, top {args.k}: "
              f"median ms of {args.events} events")
        for run in (1, 2):
            print(f"run {run}: SavedModel {median_ms(through_saved_model, events):.3f} ms, "
                  f"LiteRT {median_ms(through_litert, events):.3f} ms")


if __name__ == "__main__":
    main()
