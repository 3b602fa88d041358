"""The `kerasts` command line."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="kerasts", description="Keras 3 forecasting and recommendation zoo.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="train on the bundled data, print metrics, write plots and a SavedModel")
    demo.add_argument("--output-dir", default="demo_output", help="where plots and the SavedModel go")
    demo.add_argument("--epochs", type=int, default=20, help="DeepAR epochs of 50 batches")
    demo.add_argument("--samples", type=int, default=100, help="sample paths per forecast")
    demo.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)

    if arguments.command == "demo":
        if arguments.epochs < 1 or arguments.samples < 1:
            parser.error("--epochs and --samples must be at least 1")
        from kerasts.demo import run_demo

        try:
            run_demo(arguments.output_dir, epochs=arguments.epochs, num_samples=arguments.samples, seed=arguments.seed)
        except ValueError as error:
            parser.error(str(error))
    return 0


if __name__ == "__main__":
    sys.exit(main())
