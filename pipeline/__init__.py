"""DVC stages, one module per stage of dvc.yaml: corpus -> window -> features -> train -> evaluate."""
