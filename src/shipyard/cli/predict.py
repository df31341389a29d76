"""``shipyard predict MODEL_URI --input IN --output OUT``: batch inference over a file."""

from __future__ import annotations

import sys

import click

from shipyard.serving.batch_predict import DEFAULT_CHUNK_SIZE

from .output import client, json_option, print_json

__all__ = ["command"]


@click.command("predict")
@click.argument("model_uri")
@click.option(
    "--input",
    "-i",
    "input_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="A .parquet or .csv file of model inputs.",
)
@click.option(
    "--output",
    "-o",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The .parquet or .csv file to write (replaced if it exists).",
)
@click.option(
    "--chunk-size",
    default=DEFAULT_CHUNK_SIZE,
    show_default=True,
    type=click.IntRange(min=1),
    help="Rows scored at a time (memory stays bounded by this).",
)
@click.option("--proba", is_flag=True, help="Add probability_<j> columns (classifiers).")
@click.option(
    "--inputs/--no-inputs",
    "keep_inputs",
    default=True,
    show_default=True,
    help="Copy the input columns to the output before the predictions.",
)
@click.option(
    "--prediction-column",
    default="prediction",
    show_default=True,
    help="Name of the prediction column (when the model gives one value a row).",
)
@click.option("--trust", is_flag=True, help="Allow models saved as pickles (they run code).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@json_option
def command(
    model_uri: str,
    input_path: str,
    output_path: str,
    chunk_size: int,
    proba: bool,
    keep_inputs: bool,
    prediction_column: str,
    trust: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Score a Parquet or CSV file with MODEL_URI (models:/digits@production, runs:/<id>/model).

    The file is read and scored in chunks, so it may be larger than memory; the
    output holds each input row and its prediction, in input order.
    """
    from shipyard.serving.batch_predict import predict_file

    result = predict_file(
        model_uri,
        input_path,
        output_path,
        chunk_size=chunk_size,
        proba=proba,
        keep_inputs=keep_inputs,
        prediction_column=prediction_column,
        trust=trust,
        progress=not quiet and not as_json and sys.stderr.isatty(),
        client=client(),
    )
    if as_json:
        print_json(
            {
                "rows": result.rows,
                "chunks": result.chunks,
                "seconds": round(result.seconds, 3),
                "output": str(result.output),
            }
        )
        return
    if not quiet:
        click.echo(
            f"Scored {result.rows:,} rows in {result.seconds:.1f}s "
            f"({result.rows_per_second:,.0f} rows/s) -> {result.output}",
            err=True,
        )
