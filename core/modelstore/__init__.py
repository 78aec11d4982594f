"""The model store: which models the library has (packaged defaults, user-added files,
catalog downloads on request), their registry rows, validation, device placement, and typed
loaders per model kind.

Owns: ``manager`` (ModelManager), ``builtins``. May import: ``models``, ``storage``,
``core.errors``, ``core.progress``."""
