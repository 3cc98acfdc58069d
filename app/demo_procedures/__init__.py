"""Demo cases for each municipal procedure, at various stages (one module per process package).

Each module exposes ``seed() -> None``: idempotent, it deploys its package, creates the accounts it
needs with the demo password and drives a few cases through the real services to different
stages. ``flask demo seed`` runs them all.
"""
