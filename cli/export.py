"""``bertsent export``: a saved model as a scikit-learn Pipeline in a joblib file, for your own code."""

from __future__ import annotations

import argparse

from bertsent.cli.common import safe


def register(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="write a model as a scikit-learn Pipeline (joblib) for your own code",
        description="A joblib file is a pickle: load only files you made yourself. bertsent never loads one.",
    )
    export.set_defaults(run=cmd_export)
    export.add_argument("--model", required=True, help="model folder from 'bertsent train'")
    export.add_argument("--out", required=True, help="file to write, e.g. model.joblib")


def cmd_export(args: argparse.Namespace) -> int:
    import joblib
    from bertsent.core.base.files import atomic_open
    from bertsent.core.base.paths import writable_file
    from bertsent.core.models.estimators import to_pipeline
    from bertsent.core.models.persist import load_model

    writable_file(args.out, "--out")  # before any work: a bad destination must not cost the export
    model = load_model(args.model).model
    pipeline = to_pipeline(model)
    with atomic_open(args.out) as handle:
        joblib.dump(pipeline, handle)
    classes = ", ".join(map(str, pipeline.classes_))
    print(
        f"wrote {safe(args.out)}: Pipeline(embed, classify) over classes {safe(classes)}; "
        "load it with joblib.load (a pickle: only your own files)"
    )
    return 0
