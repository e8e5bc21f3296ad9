"""Model registry: one file per paper, each variant registered under the name `params.yaml`'s
`model` selects. Importing this package registers every model."""
from models.registry import (create_model, has_named_inputs, input_rank, list_models, register_model,  # noqa: F401
                             require_registered, input_times)
from models import baselines, classical, emonet, raju, tzirakis, williams, xu  # noqa: F401  (registers)
